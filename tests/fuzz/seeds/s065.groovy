x = 0
try { try { 1 % 0 } finally { x = 1 } } catch (e) { x += 10 }
x
