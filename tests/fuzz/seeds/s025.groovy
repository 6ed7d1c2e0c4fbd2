g.V().next()
