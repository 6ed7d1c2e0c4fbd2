g.V().count()
