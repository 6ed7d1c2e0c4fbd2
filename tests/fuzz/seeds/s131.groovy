g.V().hasLabel('software').drop().iterate()
