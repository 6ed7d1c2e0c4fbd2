graph.addVertex(T.id, 5); graph.addVertex(T.id, 5)
