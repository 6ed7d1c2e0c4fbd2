g.V(1, 4).out().out().values('name')
