def s = 'x'
try { while (true) { s = s + s } } catch (Exception e) { 'caught' }
