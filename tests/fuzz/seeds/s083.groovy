[g.V().out().dedup().id().toList(), g.V().both().dedup().count().next(), g.V().values('lang').dedup().toList(), g.V().dedup().by(T.label).values('name').toList()]
