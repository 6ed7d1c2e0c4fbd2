def t = g.V().drop()
g.V().count()
