def names = []
for (n in g.V().hasLabel('software').order().by('name', desc).values('name')) { names.add(n) }
def m = g.V(1).valueMap().next()
def c = g.V().groupCount().by(T.label).next()
[names, m['name'], c.person, m.age[0] + 1]
