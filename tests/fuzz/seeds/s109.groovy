def r = 'slept'
try { Thread.sleep(50) } catch (InterruptedException e) { r = 'woken' }
r
