g.V(2).in()
