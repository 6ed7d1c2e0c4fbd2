[g.V().group().by(T.label).by('name').next(),
 g.V().groupCount().by(T.label).next(),
 g.V().group().by('lang').by(count()).next(),
 g.V().out().groupCount().by('name').next(),
 g.V().hasLabel('person').group().by(out().count()).by(values('name').fold()).next(),
 g.V().values('lang').groupCount().next()]
