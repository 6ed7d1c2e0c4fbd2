[g.V(1).outE('knows').id().toList(), g.V(3).inE().count().next(), g.E(7).outV().values('name').toList(), g.E(7).inV().values('name').toList(), g.V(4).bothE().label().toList()]
