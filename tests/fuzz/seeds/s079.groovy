g.V().hasNot('age').values('name')
