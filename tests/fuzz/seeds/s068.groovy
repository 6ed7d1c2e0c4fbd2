if (true) { def inner = 1 }
inner
