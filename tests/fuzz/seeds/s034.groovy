graph.addVertex(T.label, 'man', 'name', 'marko')
graph.addVertex(T.label, 'man', 'name', 'josh')
graph.addVertex(T.label, 'woman', 'name', 'ann')
g.V().hasLabel('man').count()
