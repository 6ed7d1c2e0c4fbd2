graph.addVertex(T.id, 5)
try { graph.addVertex(T.id, 5) } catch (IllegalArgumentException e) { 'dup' }
