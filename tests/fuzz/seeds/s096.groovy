[g.V(1).repeat(out()).times(2).values('name').toList(),
 g.V(1).repeat(__.out()).times(1).id().toList(),
 g.V(1).repeat(out()).times(0).id().toList()]
