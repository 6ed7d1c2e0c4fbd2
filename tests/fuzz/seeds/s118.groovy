[g.V().count().next(), g.E().count().next(), g.V(1, 2).count().next(), g.V([3, 4]).id().toList()]
