def f(x) { x }
