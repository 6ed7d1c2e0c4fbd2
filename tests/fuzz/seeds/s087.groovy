[g.V(1).as('a').out('knows').as('b').select('a', 'b').by('name').toList(),
 g.V(4).as('x').out().select('x').values('name').toList()]
