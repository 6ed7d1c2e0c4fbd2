[g.V().order().by(T.label, desc).by('name').values('name').toList(),
 g.V().hasLabel('person').order().by(out().count(), desc).by('name').values('name').toList(),
 g.V(1).outE().order().by('weight', desc).id().toList()]
