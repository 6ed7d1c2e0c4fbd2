def t = g.V().hasLabel('software')
def a = t.next()
def b = t.hasNext()
def c = t.next()
[a.value('name'), b, c.value('name'), t.hasNext(), t.toList()]
