g.V(1).as('a').out('created').as('b').in('created').path().by('name')
