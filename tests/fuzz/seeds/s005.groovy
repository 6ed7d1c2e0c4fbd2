graph.addVertex('x')
graph.tx().commit()
g.V().local(out().count())
