[g.V(1).out().has('age', lt(30)).values('name').toList(),
 g.V(1).out().has('person', 'age', gt(30)).values('name').toList(),
 g.V().out().hasId(within(2, 3)).id().toList(),
 g.V().has(T.label, 'software').id().toList()]
