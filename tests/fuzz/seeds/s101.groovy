def v = g.addV('person').property('name', 'stephen').property('age', 40).next()
g.V(v).addE('knows').to(__.V(1)).iterate()
g.addE('uses').from(g.V(1).next()).to(v).property('since', 2020).iterate()
g.V(1).as('m').V(v).addE('likes').from('m').iterate()
g.V(2).property('age', 28).iterate()
g.E().hasLabel('created').has('weight', lt(0.3)).drop().iterate()
[g.V().has('name', 'stephen').values('age').next(), g.V(v).in().values('name').toList(), g.V(v).out('knows').values('name').toList(), g.E().hasLabel('uses').values('since').toList(), g.V(2).values('age').next(), g.E().count().next(), g.V(v).inE().label().toList()]
