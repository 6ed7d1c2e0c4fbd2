def names = []
for (n in g.V().hasLabel('software').order().by('name', desc).values('name')) { names << n }
names
