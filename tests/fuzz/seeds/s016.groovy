def l = []; l << 1
