[g.V().order().by('name').values('name').toList(),
 g.V().order().by('age', desc).values('name').toList(),
 g.V().hasLabel('person').order().by('age', Order.asc).values('age').toList(),
 g.V().values('name').order().by(decr).toList(),
 g.V().values('age').order().toList()]
