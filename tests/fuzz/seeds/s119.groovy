g.V().hasLabel('person').has('age', 29).values('name')
