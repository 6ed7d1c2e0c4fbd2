[g.V().coalesce(values('lang'), values('name')).toList(),
 g.V(1, 2).coalesce(out('created').values('name'), constant('none')).toList(),
 g.V().hasLabel('software').constant(1).sum().next()]
