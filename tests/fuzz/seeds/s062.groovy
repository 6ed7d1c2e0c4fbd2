for (i in 1..100) { if (i == 3) return i * 2 }
'never'
