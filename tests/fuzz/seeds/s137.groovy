def v = g.V(2).next()
[g.V(v).id().toList(), g.V([]).count().next(), g.V([]).toList()]
