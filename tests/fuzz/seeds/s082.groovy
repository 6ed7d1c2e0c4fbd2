g.V(1).out().order().by('name').values('name')
