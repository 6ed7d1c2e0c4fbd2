def x = null
[x?.size(), x?.foo]
