def v = graph.addVertex(T.id, 100, T.label, 'man', 'name', 'x')
def w = graph.addVertex(T.label, 'man')
[v.id(), w.id(), g.V(100).values('name').next()]
