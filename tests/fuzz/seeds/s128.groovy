[g.V(1).values('age', 'name').toList(), g.V(3).values().toList()]
