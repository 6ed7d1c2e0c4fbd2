def log = []
try { log.add('try'); 1 / 0; log.add('after') } catch (ArithmeticException e) { log.add(e.message) } finally { log.add('finally') }
try { nope } catch (Exception e) { log.add(e.getMessage()) }
try { log.add('t2') } finally { log.add('f2') }
log
