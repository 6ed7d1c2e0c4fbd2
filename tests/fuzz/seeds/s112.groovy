try { while (true) { } } catch (Exception e) { 'caught' }
