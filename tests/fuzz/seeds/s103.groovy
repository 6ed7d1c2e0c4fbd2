[g.V().id().next(2), g.V().out().id().toSet(), g.V(99).tryNext(), g.V(1).values('name').tryNext(), g.V().hasNext()]
