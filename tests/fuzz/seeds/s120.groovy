g.V().hasLabel('software', 'nothing').has('lang').values('name')
