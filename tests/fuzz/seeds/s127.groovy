[g.V(1).out().hasLabel('person').values('name').toList(), g.V(1).out().has('lang', 'java').values('name').toList(), g.V(1).out().limit(1).id().toList(), g.V(1).out().count().next()]
