g.V().hasLabel('man').count()
