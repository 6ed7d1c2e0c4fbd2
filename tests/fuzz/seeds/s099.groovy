[g.V().coalesce(values('lang'), values('name')).toList(),
 g.V(1, 2).coalesce(out('created'), constant('none')).toList().collect { it }]
