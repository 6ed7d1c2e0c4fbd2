println('x')
