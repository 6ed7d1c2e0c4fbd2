['a' + 1, 1 + 'a', "tab\there", 'it\'s', "q\"q", 'x' + null, 'ab' * 3, '\u00e9']
