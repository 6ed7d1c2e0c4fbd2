x = 1
if (true) { y = x + 1 }
y
