g.V().limit('x')
