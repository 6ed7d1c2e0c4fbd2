g.V().drop()
