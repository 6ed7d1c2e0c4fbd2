try { 1 / 0 } catch (InterruptedException e) { 'caught' }
