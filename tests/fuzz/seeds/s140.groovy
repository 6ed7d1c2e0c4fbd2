g.V(1).outE().label()
