g.V(1).next().remove()
[g.V().count().next(), g.E().count().next()]
