g.V().hasLabel('person').values('age')
