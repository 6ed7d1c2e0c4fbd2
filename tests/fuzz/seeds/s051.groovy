[1 < 2, 2 <= 2, 3 > 4, 'a' < 'b', 1 == 1.0, 'a' == 'a', [1, 2] == [1, 2], null == null, 1 != 2, true && false, true || false, !true, !0, !'']
