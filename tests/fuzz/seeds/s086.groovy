g.V(1).out('created').in('created').simplePath().values('name')
