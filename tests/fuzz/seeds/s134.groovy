def v = g.V(1).next()
v.property('age', 30)
[v.value('age'), g.V(1).values('age').next(), g.V().has('age', 30).count().next()]
