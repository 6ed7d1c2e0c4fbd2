hugegraph.traversal().V()
