['Abc'.toUpperCase(), 'Abc'.toLowerCase(), 'abc'.length(), 'abc'.contains('b'), 'abc'.startsWith('ab'), 'abc'.endsWith('bc'), 'abc'[1], 12.toString()]
