g.V(1).as('a').out('created').in('created').where(neq('a')).values('name')
