[g.V().hasId(2, 3, 99).id().toList(), g.V().limit(2).id().toList(), g.V().limit(3).count().next()]
