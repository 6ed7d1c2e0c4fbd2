g.V(1 out()
