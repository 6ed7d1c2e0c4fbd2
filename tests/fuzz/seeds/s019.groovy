def a = 1; a / 0
