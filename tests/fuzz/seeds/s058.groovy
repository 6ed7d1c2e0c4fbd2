def n = 0
for (x in [1, 2, 3]) n += x
for (int y : 1..3) { n += y * 10 }
for (v in g.V().hasLabel('software')) { n += v.id() * 100 }
n
