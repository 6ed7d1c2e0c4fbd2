def out = []
for (int i = 0; i < 10; i++) {
    if (i % 2 == 0) continue
    if (i > 7) break
    out.add(i)
}
out
