[g.V(1).out().values('name').toList(), g.V(1).out('knows').values('name').toList(), g.V(3).in('created').values('name').toList(), g.V(4).both().values('name').toList()]
