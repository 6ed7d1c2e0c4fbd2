[g.V(1).repeat(out()).until(hasLabel('software')).values('name').toList(),
 g.V(1).repeat(out()).emit().values('name').toList(),
 g.V(1).repeat(out()).times(2).emit().values('name').toList(),
 g.V(1).emit().repeat(out()).times(1).values('name').toList(),
 g.V(6).until(out().count().is(0)).repeat(out()).values('name').toList(),
 g.V(1).repeat(out()).emit(has('lang')).values('name').toList()]
