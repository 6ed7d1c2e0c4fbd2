graph.addVertex('a'); graph.tx().rollback(); g.V().count()
