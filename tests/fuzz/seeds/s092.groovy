[g.V(1).out().values('name').fold().next(), g.V(1).out().fold().unfold().id().toList(), g.V().has('name', 'nobody').fold().next(), g.V(1).out().values('name').fold().count(local).toList()]
