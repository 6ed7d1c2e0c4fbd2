g.V(1).out('knows').path()
