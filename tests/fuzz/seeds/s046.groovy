graph.addVertex('x'); graph.addVertex('y'); g.V().count()
