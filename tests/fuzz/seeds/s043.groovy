def a = graph.addVertex(T.label, 'man', 'name', 'marko')
def b = graph.addVertex(T.label, 'man', 'name', 'vadas')
a.addEdge('knows', b, 'weight', 0.5)
