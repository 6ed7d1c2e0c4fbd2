def l = [1, 2, 3]
l[0] = 10
l.add(4)
def m = [a: 1, 'b': 2, (3): 'c']
m.d = 4
m['e'] = 5
[l, l.size(), l[-1], l[9], m, m.a, m['b'], m.size(), [:], []]
