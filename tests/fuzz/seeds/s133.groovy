def v = g.V(1).next()
def e = g.E(7).next()
[v.id(), v.label(), v.value('name'), v.values('name', 'age'), v.keys(), e.outVertex().value('name'), e.inVertex().id(), e.value('weight'), v['age']]
