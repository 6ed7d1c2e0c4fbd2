new ArrayList()
