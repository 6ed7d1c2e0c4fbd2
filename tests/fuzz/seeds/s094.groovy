[g.V().where(out('created')).values('name').toList(),
 g.V().not(out()).values('name').toList(),
 g.V().where(out().count().is(gt(1))).values('name').toList(),
 g.V().values('age').is(32).toList(),
 g.V().values('age').is(lt(30)).toList(),
 g.V().where(__.in('knows')).id().toList()]
