g.V(3).where(in('created').has('name', 'peter')).identity().values('name')
