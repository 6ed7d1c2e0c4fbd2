def x = 1
g.V().union(out(), in())
