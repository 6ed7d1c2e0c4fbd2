def i = 0, s = 0
while (i < 5) { s += i; i++ }
s
