[g.V(4).bothE().otherV().id().toList(), g.E(8).bothV().id().toList()]
