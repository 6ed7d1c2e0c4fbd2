g.V()
  .hasLabel('person')
  .count()
