def t = g.V()
t.frobnicate()
