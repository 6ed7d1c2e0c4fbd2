graph.addVertex(T.label, 'man', 'name')
