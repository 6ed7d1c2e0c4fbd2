g.V(1).values('name').out()
