g.V().has('person', 'name', 'josh').id()
