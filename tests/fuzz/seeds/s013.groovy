def x = 1; "v=${x}"
