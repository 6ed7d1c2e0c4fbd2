graph.addVertex('x').value('name')
