int i = 5
def a = i++
def b = ++i
i += 10; i -= 2; i *= 3; i %= 7
[a, b, i]
