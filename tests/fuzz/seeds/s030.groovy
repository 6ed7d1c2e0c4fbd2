graph.addVertex('a'); graph.tx().commit(); graph.addVertex('b'); 1 / 0
