def x = null
[x ?: 'dflt', 5 ?: 6, 1 > 2 ? 'yes' : 'no', x == null ? 1 : 2]
