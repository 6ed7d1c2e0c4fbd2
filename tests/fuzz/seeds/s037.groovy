for (int i = 0; i < 10; i++) {
    hugegraph.addVertex(T.label, 'man');
    hugegraph.tx().commit();
    try { sleep(1000); } catch (InterruptedException e) { break; }
}
