g.addV('thing')
