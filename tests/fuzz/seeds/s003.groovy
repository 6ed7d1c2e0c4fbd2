[1, 2].collect({ it * 2 })
