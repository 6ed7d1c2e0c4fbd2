graph.addVertex(T.label, 'man', 'name', 'marko')
