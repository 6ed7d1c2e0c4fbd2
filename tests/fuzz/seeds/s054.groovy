int i = 7.9
double d = 2
String s = 12
boolean b = 'x'
i = 3.5
[i, d, s, b]
