g.V(1).repeat(out()).times(2).path().by('name')
