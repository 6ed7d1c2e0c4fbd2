// a comment
def a = 1; /* another
one */ def b = 2;;
a + b // trailing
