g.V().each { println it }
