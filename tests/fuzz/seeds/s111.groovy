x = 0
try { while (true) { x++ } } catch (Exception e) { 'caught' } finally { graph.addVertex('f') }
