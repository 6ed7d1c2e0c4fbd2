[name, n + 1, list, m.k]
