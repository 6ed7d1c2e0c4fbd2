def v1 = graph.addVertex(T.label, 'person', 'name', 'a'); def v2 = graph.addVertex(T.label, 'person', 'name', 'b'); v1.addEdge('knows', v2); g.V().out('knows').values('name')
