#!/usr/bin/env python3
"""bench/bench.py - the scenarios of ./bench/run.sh (python3 stdlib only).

run.sh installs the tools, builds hugetask, starts PostgreSQL and the
databases, then runs this with the paths and the port.  This file starts
and stops the hugetask daemons itself (every process it starts runs in its
own session; it signals only those), runs each scenario for hugetask and its
baselines in alternating order for several rounds, prints median and spread,
and writes the results file.  It measures and prints; it judges nothing.
"""
import argparse
import calendar
import glob
import http.client
import json
import math
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

GRAPH = "hugegraph"
CALLABLE = "org.apache.hugegraph.job.GremlinJob"
NOOP_INPUT = ('{"gremlin":"1","bindings":{},"language":"gremlin-groovy",'
              '"aliases":{"hugegraph":"graph"}}')
HT = "hugetask"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- settings

def settings(quick):
    """Sizes per mode.  Quick keeps every scenario, smaller."""
    if quick:
        return dict(rounds=2, clients=[1, 16, 64], read_clients=[16], http_seconds=2,
                    read_rows=10000, drain_jobs=4000, slots=[4, 16],
                    boss_drain_seconds=2, lat_jobs=60, boss_lat_jobs=10,
                    cancel_jobs=15, scale_rows=[1000000], scale_requests=60,
                    scale_pages=30, scale_pgbench_seconds=1, gap_ms=15)
    return dict(rounds=5, clients=[1, 16, 64], read_clients=[1, 16, 64], http_seconds=5,
                read_rows=100000, drain_jobs=20000, slots=[4, 16],
                boss_drain_seconds=20, lat_jobs=1000, boss_lat_jobs=200,
                cancel_jobs=100, scale_rows=[1000000, 10000000],
                scale_requests=1000, scale_pages=200, scale_pgbench_seconds=5,
                gap_ms=15)


# ---------------------------------------------------------------- processes

class Procs:
    """Every long-running process this driver starts, to stop them all."""

    def __init__(self):
        self.live = []

    def start(self, argv, logfile, env=None):
        out = open(logfile, "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env,
                             start_new_session=True)
        out.close()
        self.live.append(p)
        return p

    def stop(self, p, grace=15.0):
        """SIGTERM to the process group we created, SIGKILL after grace."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        # children of a supervisor share its group; make sure none is left
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if p in self.live:
            self.live.remove(p)

    def stop_all(self):
        for p in list(self.live):
            self.stop(p, grace=5.0)


PROCS = Procs()


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def run(argv, timeout=None, env=None, check=True):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({r.returncode}): "
                           f"{r.stderr.strip()[-2000:]}")
    return r


def free_port():
    for _ in range(200):
        p = random.randint(20000, 29999)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", p)) != 0:
                try:
                    s2 = socket.socket()
                    s2.bind(("127.0.0.1", p))
                    s2.close()
                    return p
                except OSError:
                    continue
    raise RuntimeError("no free port")


# ---------------------------------------------------------------- stats

def pct(values, q):
    """Nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


def lat_summary(ms):
    return dict(n=len(ms), p50_ms=pct(ms, 50), p99_ms=pct(ms, 99),
                max_ms=max(ms) if ms else None)


class Results:
    """results[section][metric] = {unit, better, values: {system: [..]}}"""

    def __init__(self):
        self.sections = {}
        self.order = []
        self.notes = {}

    def add(self, section, metric, system, value, unit, better):
        if value is None:
            return
        sec = self.sections.setdefault(section, {})
        if section not in self.order:
            self.order.append(section)
        m = sec.setdefault(metric, dict(unit=unit, better=better, values={}))
        m["values"].setdefault(system, []).append(value)

    def note(self, section, text):
        self.notes.setdefault(section, []).append(text)

    def to_json(self):
        return dict(order=self.order, sections=self.sections, notes=self.notes)


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    if unit == "MB":
        return f"{v:.1f}"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}"


def cell(vals, unit):
    if not vals:
        return "-"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(med, unit)
    return f"{fmt(med, unit)} ({fmt(min(vals), unit)}..{fmt(max(vals), unit)})"


def section_systems(sec):
    seen = []
    for m in sec.values():
        for s in m["values"]:
            if s not in seen:
                seen.append(s)
    if HT in seen:
        seen.remove(HT)
        seen.insert(0, HT)
    return seen


def ratio_cells(m, systems):
    out = []
    ht = m["values"].get(HT)
    for s in systems:
        if s == HT:
            continue
        b = m["values"].get(s)
        if ht and b:
            hb, bb = statistics.median(ht), statistics.median(b)
            r = hb / bb if bb else None
            out.append("-" if r is None else f"{r:.3f}x" if r < 0.1 else f"{r:.2f}x")
        else:
            out.append("-")
    return out


def table_rows(sec):
    systems = section_systems(sec)
    head = ["measurement"] + systems + [f"{HT}/{s}" for s in systems if s != HT]
    rows = []
    for name, m in sec.items():
        unit = m["unit"]
        label = f"{name} [{unit}]"
        rows.append([label] + [cell(m["values"].get(s), unit) for s in systems]
                    + ratio_cells(m, systems))
    return head, rows


def print_section(title, sec):
    head, rows = table_rows(sec)
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    print()
    print(f"== {title}")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    sys.stdout.flush()


# ---------------------------------------------------------------- worker log

class WorkerLog:
    """Follows a hugetask-worker log: when each task was claimed and
    finished (the log's own timestamps, epoch ms)."""

    PAT = re.compile(r"evt=task\.(claimed|finished) graph=\S+ task=(\d+)")

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.claimed = {}
        self.finished = {}

    def poll(self):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            chunk = f.read()
        cut = chunk.rfind(b"\n") + 1
        self.pos += cut
        for line in chunk[:cut].decode(errors="replace").splitlines():
            m = self.PAT.search(line)
            if m:
                d = self.claimed if m.group(1) == "claimed" else self.finished
                d.setdefault(int(m.group(2)), parse_ts_ms(line))

    def wait(self, kind, tid, timeout=10.0):
        d = self.claimed if kind == "claimed" else self.finished
        deadline = time.time() + timeout
        while True:
            self.poll()
            if tid in d:
                return True
            if time.time() > deadline:
                return False
            time.sleep(0.002)


# ---------------------------------------------------------------- the bench

class Bench:
    def __init__(self, a):
        self.a = a
        self.cfg = settings(a.quick)
        if a.rounds:
            self.cfg["rounds"] = a.rounds
        self.res = Results()
        self.tmp = a.tmp
        self.pg_port = a.pg_port
        self.api_bin = os.path.join(a.build, "api-server", "hugetask-api")
        self.worker_bin = os.path.join(a.build, "worker", "hugetask-worker")
        self.pgbench = a.pgbench
        self.psql_bin = a.psql
        self.root = a.root
        self.node_dir = os.path.join(a.root, "bench", "node")
        self.wrk_dir = os.path.join(a.root, "bench", "wrk")
        self.pgb_dir = os.path.join(a.root, "bench", "pgbench")
        self.api = None
        self.api_port = None
        self.pub_port = None
        self.worker = None
        self.worker_log = None
        self.seq = 0
        self.mem = {}
        self.deep_tokens = {}

    # -------------------------------------------------------- helpers

    def url(self, db):
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{db}"

    def psql(self, db, sql, timeout=3600):
        r = run([self.psql_bin, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                 "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                 "-d", db, "-c", sql], timeout=timeout)
        return r.stdout.strip()

    def logpath(self, name):
        self.seq += 1
        return os.path.join(self.tmp, f"{self.seq:03d}-{name}.log")

    def checkpoint(self):
        self.psql("postgres", "CHECKPOINT")

    def rotate(self, systems, rnd):
        k = rnd % len(systems)
        return systems[k:] + systems[:k]

    # -------------------------------------------------------- hugetask daemons

    def migrate(self, db):
        run([self.api_bin, "--migrate", "--database-url", self.url(db)], timeout=120)
        self.psql(db, f"SELECT ht_ensure_graph('{GRAPH}')")

    def start_api(self):
        self.api_port = free_port()
        self.pub_port = free_port()
        argv = [self.api_bin, "--listen", f"127.0.0.1:{self.api_port}",
                "--database-url", self.url("ht"),
                "--pub", f"tcp://127.0.0.1:{self.pub_port}",
                "--graphs", GRAPH, "--threads", str(self.a.api_threads)]
        self.api = PROCS.start(argv, self.logpath("api"))
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.api.poll() is not None:
                raise RuntimeError("hugetask-api exited at start")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=2)
                c.request("GET", "/versions")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("hugetask-api did not answer within 30 s")

    def stop_api(self):
        if self.api:
            PROCS.stop(self.api)
            self.api = None

    def start_worker(self, slots, name):
        self.worker_log = self.logpath(name)
        sub = f"tcp://127.0.0.1:{self.pub_port or free_port()}"
        argv = [self.worker_bin, "--workers", str(slots),
                "--database-url", self.url("ht"), "--subscribe", sub,
                "--graphs", GRAPH]
        self.worker = PROCS.start(argv, self.worker_log)
        # ready when every worker process logged worker.started
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(f"hugetask-worker exited at start ({self.worker_log})")
            with open(self.worker_log, errors="replace") as f:
                if f.read().count("evt=worker.started") >= slots:
                    return
            time.sleep(0.05)
        raise RuntimeError("hugetask-worker processes did not start within 30 s")

    def stop_worker(self):
        if self.worker:
            PROCS.stop(self.worker)
            self.worker = None

    def worker_children(self):
        kids = []
        if not self.worker:
            return kids
        try:
            with open(f"/proc/{self.worker.pid}/task/{self.worker.pid}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            pass
        return kids

    # -------------------------------------------------------- rows

    def fill_tasks(self, db, n, start=1):
        """Completed task rows start..start+n-1, 80% success, 10% failed,
        10% cancelled, with task-sized input and result, created 1 ms apart."""
        inp = NOOP_INPUT.replace("'", "''")
        step = 1000000
        for lo in range(start, start + n, step):
            hi = min(start + n - 1, lo + step - 1)
            self.psql(db, f"""
INSERT INTO tasks (graph, id, type, name, callable, status, input, result,
                   progress, server, attempt, created_at, updated_at)
SELECT '{GRAPH}', i, 'gremlin', '1', '{CALLABLE}',
       CASE WHEN i % 10 < 8 THEN 'success' WHEN i % 10 = 8 THEN 'failed'
            ELSE 'cancelled' END,
       '{inp}',
       CASE WHEN i % 10 < 8 THEN '[1]' WHEN i % 10 = 8
            THEN 'ScriptError: bench row' END,
       0, 'bench', 1,
       timestamptz '2025-01-01' + i * interval '1 millisecond',
       timestamptz '2025-01-01' + i * interval '1 millisecond' + interval '5 ms'
  FROM generate_series({lo}, {hi}) i""")
        self.psql(db, f"SELECT setval(ht_task_seq('{GRAPH}'), "
                      f"(SELECT max(id) FROM tasks WHERE graph = '{GRAPH}'))")
        self.psql(db, "VACUUM ANALYZE tasks")

    def reset_tasks(self, db):
        # Every point starts from empty tables, as the other systems' do:
        # the task history (sql/0006) would otherwise grow over the run.
        self.psql(db, "TRUNCATE tasks, task_events")

    # -------------------------------------------------------- load tools

    def wrk(self, script, conns, seconds, env_extra=None):
        env = dict(os.environ, BENCH_GRAPH=GRAPH, BENCH_WRK_DIR=self.wrk_dir)
        if env_extra:
            env.update({k: str(v) for k, v in env_extra.items()})
        threads = min(2, conns)
        p = subprocess.Popen(["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s",
                              "--timeout", "10s", "-s", os.path.join(self.wrk_dir, script),
                              f"http://127.0.0.1:{self.api_port}"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # sample the API's RSS while the load runs
        peak = 0.0
        while p.poll() is None:
            r = self.rss_mb(self.api.pid) if self.api else None
            if r:
                peak = max(peak, r)
            time.sleep(0.1)
        out = p.stdout.read()
        p.stdout.close()
        self.api_peak = max(getattr(self, "api_peak", 0.0), peak)
        if p.returncode != 0:
            raise RuntimeError(f"wrk failed ({p.returncode}): {out[-1000:]}")
        for line in out.splitlines():
            if line.startswith("BENCHJSON "):
                d = json.loads(line[len("BENCHJSON "):])
                ok = d["requests"] - d["errors"]
                d["rate"] = ok / d["seconds"] if d["seconds"] else None
                return d
        raise RuntimeError(f"wrk printed no result: {out[-1000:]}")

    def pgbench_run(self, db, script, clients, seconds=None, transactions=None,
                    defines=None):
        prefix = os.path.join(self.tmp, f"pgbench-{self.seq}-{script}")
        self.seq += 1
        for old in glob.glob(prefix + "*"):
            os.unlink(old)
        argv = [self.pgbench, "-n", "-M", "prepared", "-h", "127.0.0.1",
                "-p", str(self.pg_port), "-U", "postgres",
                "-c", str(clients), "-j", str(min(2, clients)),
                "-f", os.path.join(self.pgb_dir, script),
                "-l", f"--log-prefix={prefix}"]
        if seconds:
            argv += ["-T", str(seconds)]
        if transactions:
            argv += ["-t", str(transactions)]
        for k, v in (defines or {}).items():
            argv += ["-D", f"{k}={v}"]
        argv.append(db)
        r = run(argv, timeout=(seconds or 600) + 120)
        m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", r.stdout)
        tps = float(m.group(1)) if m else None
        lat = []
        for fn in glob.glob(prefix + "*"):
            with open(fn) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3 and parts[2].isdigit():
                        lat.append(int(parts[2]) / 1000.0)
            os.unlink(fn)
        failed = 0
        m = re.search(r"number of failed transactions: (\d+)", r.stdout)
        if m:
            failed = int(m.group(1))
        return dict(rate=tps, p50_ms=pct(lat, 50), p99_ms=pct(lat, 99),
                    n=len(lat), failed=failed)

    def node(self, script, args, timeout=900):
        r = run(["node", os.path.join(self.node_dir, script)] + [str(x) for x in args],
                timeout=timeout)
        for line in r.stdout.splitlines():
            if line.startswith("BENCHJSON "):
                return json.loads(line[len("BENCHJSON "):])
        raise RuntimeError(f"{script} printed no result: {r.stdout[-500:]} {r.stderr[-1500:]}")

    # -------------------------------------------------------- memory

    @staticmethod
    def rss_mb(pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return None

    def mem_note(self, key, value):
        if value is not None:
            self.mem.setdefault(key, []).append(value)

    # -------------------------------------------------------- scenarios

    def scenario_submit(self):
        """POST jobs/gremlin with wrk beside pgbench's single-row INSERT."""
        c = self.cfg
        log("submit: POST jobs/gremlin (wrk) vs pgbench INSERT")
        self.start_api()
        self.mem_note("api idle", self.rss_mb(self.api.pid))
        self.api_peak = 0.0
        try:
            for rnd in range(c["rounds"]):
                for conns in c["clients"]:
                    for system in self.rotate([HT, "pgbench INSERT"], rnd):
                        self.reset_tasks("ht" if system == HT else "pgb")
                        self.checkpoint()
                        if system == HT:
                            d = self.wrk("submit.lua", conns, c["http_seconds"])
                            if d["errors"]:
                                self.res.note("submit", f"round {rnd + 1}, {conns} connections: "
                                              f"{d['errors']} wrk errors / non-2xx answers")
                        else:
                            d = self.pgbench_run("pgb", "insert.sql", conns,
                                                 seconds=c["http_seconds"])
                            d["p50_us"] = d["p50_ms"] * 1000 if d["p50_ms"] is not None else None
                            d["p99_us"] = d["p99_ms"] * 1000 if d["p99_ms"] is not None else None
                        self.res.add("submit", f"{conns} clients rate", system, d["rate"], "/s", "higher")
                        if d.get("p50_us") is not None:
                            self.res.add("submit", f"{conns} clients p50", system, d["p50_us"] / 1000, "ms", "lower")
                            self.res.add("submit", f"{conns} clients p99", system, d["p99_us"] / 1000, "ms", "lower")
            self.mem_note("api after submit load", self.rss_mb(self.api.pid))
            self.mem_note("api peak under submit load (sampled every 0.1 s)", self.api_peak)
        finally:
            self.stop_api()

    def scenario_read(self):
        """GET tasks/{id} and tasks?ids= (10 ids) beside pgbench SELECTs."""
        c = self.cfg
        n = c["read_rows"]
        log(f"read: GET tasks/{{id}} and tasks?ids= vs pgbench SELECT ({n} rows)")
        for db in ("ht", "pgb"):
            self.reset_tasks(db)
            self.fill_tasks(db, n)
        self.start_api()
        try:
            for rnd in range(c["rounds"]):
                for conns in c["read_clients"]:
                    pairs = [(HT, "get"), ("pgbench SELECT", "get"),
                             (HT, "ids"), ("pgbench SELECT 10 ids", "ids")]
                    for system, kind in self.rotate(pairs, rnd):
                        label = "GET tasks/{id}" if kind == "get" else "GET tasks?ids= (10)"
                        if system == HT:
                            d = self.wrk("get.lua" if kind == "get" else "ids.lua", conns,
                                         c["http_seconds"], dict(BENCH_MAXID=n))
                            if d["errors"]:
                                self.res.note("read", f"round {rnd + 1}, {label}, {conns} connections: "
                                              f"{d['errors']} wrk errors / non-2xx answers")
                            p50, p99 = d["p50_us"] / 1000, d["p99_us"] / 1000
                        else:
                            d = self.pgbench_run("pgb", "select.sql" if kind == "get" else "select10.sql",
                                                 conns, seconds=c["http_seconds"], defines=dict(maxid=n))
                            p50, p99 = d["p50_ms"], d["p99_ms"]
                        sysname = system if system != HT else HT
                        self.res.add("read", f"{label} {conns} clients rate", sysname, d["rate"], "/s", "higher")
                        self.res.add("read", f"{label} {conns} clients p50", sysname, p50, "ms", "lower")
                        self.res.add("read", f"{label} {conns} clients p99", sysname, p99, "ms", "lower")
        finally:
            self.stop_api()
        # the ratios compare GET tasks/{id} with the single SELECT and ids=
        # with the 10-id SELECT; keep the two pgbench scripts apart by row
        sec = self.res.sections.get("read", {})
        for name, m in sec.items():
            v = m["values"]
            if name.startswith("GET tasks/{id}"):
                v.pop("pgbench SELECT 10 ids", None)
                if "pgbench SELECT" in v:
                    v["pgbench SELECT (1 or 10 ids)"] = v.pop("pgbench SELECT")
            else:
                v.pop("pgbench SELECT", None)
                if "pgbench SELECT 10 ids" in v:
                    v["pgbench SELECT (1 or 10 ids)"] = v.pop("pgbench SELECT 10 ids")

    def ht_drain(self, slots, n, rnd):
        self.reset_tasks("ht")
        self.checkpoint()
        self.start_worker(slots, f"worker-drain-w{slots}")
        try:
            time.sleep(1.0)
            self.mem_note(f"worker supervisor idle (W={slots})", self.rss_mb(self.worker.pid))
            kids = self.worker_children()
            idle = [self.rss_mb(k) for k in kids]
            idle = [x for x in idle if x is not None]
            if idle:
                self.mem_note(f"worker process idle, max of {len(idle)} (W={slots})", max(idle))
            self.psql("ht", f"""
INSERT INTO tasks (graph, id, type, name, callable, status, input)
SELECT '{GRAPH}', nextval(ht_task_seq('{GRAPH}')), 'gremlin', '1', '{CALLABLE}',
       'queued', '{NOOP_INPUT}'
  FROM generate_series(1, {n})""")
            peak = {}
            sup_peak = 0.0
            deadline = time.time() + max(300, n / 20)
            next_count = time.time() + 0.5
            while time.time() < deadline:
                for k in kids:
                    r = self.rss_mb(k)
                    if r is not None:
                        peak[k] = max(peak.get(k, 0.0), r)
                r = self.rss_mb(self.worker.pid)
                if r:
                    sup_peak = max(sup_peak, r)
                if time.time() >= next_count:
                    left = int(self.psql("ht", "SELECT count(*) FROM tasks WHERE status NOT IN "
                                               "('success', 'failed', 'cancelled')"))
                    if left == 0:
                        break
                    next_count = time.time() + 0.5
                time.sleep(0.2)
            out = self.psql("ht", f"""
SELECT count(*) FILTER (WHERE status = 'success'),
       count(*) FILTER (WHERE status NOT IN ('success', 'failed', 'cancelled')),
       extract(epoch FROM max(updated_at) - min(started_at))
  FROM tasks WHERE graph = '{GRAPH}'""")
            ok, notdone, secs = out.split("|")
            ok, notdone = int(ok), int(notdone)
            if peak:
                self.mem_note(f"worker process under drain, peak, max of {len(peak)} (W={slots})",
                              max(peak.values()))
            self.mem_note(f"worker supervisor under drain, peak (W={slots})", sup_peak)
            if notdone or ok != n:
                self.res.note("drain", f"hugetask W={slots} round {rnd + 1}: {ok} of {n} "
                              f"succeeded, {notdone} not finished when measured")
            if not secs:
                return None
            secs = float(secs)
            return ok / secs if secs > 0 else None
        finally:
            self.stop_worker()

    def ceiling_drain(self, slots, n):
        self.psql("pgb", """
CREATE TABLE IF NOT EXISTS ceiling_q (LIKE tasks INCLUDING ALL,
                                      claimed_at timestamptz)
  WITH (fillfactor = 70)""")
        self.psql("pgb", "TRUNCATE ceiling_q")
        self.psql("pgb", f"""
INSERT INTO ceiling_q (graph, id, type, name, callable, status, input)
SELECT '{GRAPH}', i, 'gremlin', '1', '{CALLABLE}', 'queued', '{NOOP_INPUT}'
  FROM generate_series(1, {n}) i""")
        self.psql("pgb", "VACUUM ANALYZE ceiling_q")
        self.checkpoint()
        per_client = math.ceil(n / slots * 1.05) + 20
        self.pgbench_run("pgb", "claim.sql", slots, transactions=per_client)
        out = self.psql("pgb", """
SELECT count(*) FILTER (WHERE status = 'success'),
       extract(epoch FROM max(updated_at) - min(claimed_at))
  FROM ceiling_q""")
        ok, secs = out.split("|")
        ok = int(ok)
        if ok != n:
            self.res.note("drain", f"pgbench ceiling W={slots}: {ok} of {n} rows done")
        secs = float(secs) if secs else 0
        return ok / secs if secs > 0 else None

    def scenario_drain(self):
        c = self.cfg
        n = c["drain_jobs"]
        log(f"drain: {n} queued no-op jobs, W = {c['slots']}")
        systems = [HT, "graphile-worker default", "graphile-worker batched",
                   "pg-boss", "pgbench SKIP LOCKED ceiling"]
        for slots in c["slots"]:
            for rnd in range(c["rounds"]):
                for system in self.rotate(systems, rnd):
                    if system == HT:
                        rate = self.ht_drain(slots, n, rnd)
                    elif system.startswith("graphile"):
                        d = self.node("gw.js", ["drain", "--url", self.url("gw"), "--jobs", n,
                                                "--slots", slots, "--mode", system.split()[-1]])
                        if d.get("left"):
                            self.res.note("drain", f"{system} W={slots}: {d['left']} jobs left")
                        rate = d["rate"]
                    elif system == "pg-boss":
                        d = self.node("boss.js", ["drain", "--url", self.url("boss"), "--jobs", n,
                                                  "--slots", slots,
                                                  "--max-seconds", c["boss_drain_seconds"]])
                        if not d.get("finished"):
                            self.res.note("drain", f"pg-boss W={slots} round {rnd + 1}: stopped after "
                                          f"{c['boss_drain_seconds']} s with {d['jobs']} of {n} done; "
                                          "rate over those")
                        rate = d["rate"]
                    else:
                        rate = self.ceiling_drain(slots, n)
                    self.res.add("drain", f"W={slots} jobs/s", system, rate, "/s", "higher")
                    log(f"  drain W={slots} round {rnd + 1} {system}: "
                        f"{fmt(rate, '/s') if rate else '-'} jobs/s")

    def ht_latency(self, slots, n, gap_ms):
        self.reset_tasks("ht")
        self.start_api()
        self.start_worker(slots, "worker-latency")
        wl = WorkerLog(self.worker_log)
        try:
            time.sleep(1.0)
            conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=10)
            body = json.dumps({"gremlin": "1"})
            hdr = {"Content-Type": "application/json"}
            sent = {}
            warm = 5
            for i in range(warm + n):
                t0 = time.time()
                conn.request("POST", f"/graphs/{GRAPH}/jobs/gremlin", body, hdr)
                r = conn.getresponse()
                data = r.read()
                if r.status != 201:
                    raise RuntimeError(f"POST answered {r.status}: {data[:200]}")
                tid = json.loads(data)["task_id"]
                if i >= warm:
                    sent[tid] = t0
                # idle again before the next one: wait for the worker's
                # task.finished line (no HTTP polling to load the API),
                # else ask the API
                if not wl.wait("finished", tid, timeout=2.0):
                    deadline = time.time() + 10
                    while time.time() < deadline:
                        conn.request("GET", f"/graphs/{GRAPH}/tasks/{tid}")
                        r = conn.getresponse()
                        if json.loads(r.read()).get("task_status") in ("success", "failed", "cancelled"):
                            break
                        time.sleep(0.002)
                time.sleep(gap_ms / 1000.0)
            conn.close()
            claimed = {}
            out = self.psql("ht", "SELECT id, extract(epoch FROM started_at) * 1000 FROM tasks "
                                  f"WHERE graph = '{GRAPH}' AND started_at IS NOT NULL")
            for line in out.splitlines():
                tid, ms = line.split("|")
                claimed[int(tid)] = float(ms)
            lat = []
            for tid, t0 in sent.items():
                if tid in claimed:
                    lat.append(claimed[tid] - t0 * 1000.0)
            if len(lat) != len(sent):
                self.res.note("start latency", f"hugetask: {len(sent) - len(lat)} tasks without started_at")
            return lat_summary(lat)
        finally:
            self.stop_worker()
            self.stop_api()

    def scenario_latency(self):
        c = self.cfg
        slots = c["slots"][0]
        log(f"start latency: {c['lat_jobs']} jobs one at a time, W={slots} idle")
        systems = [HT, "graphile-worker default", "graphile-worker batched", "pg-boss"]
        for rnd in range(c["rounds"]):
            for system in self.rotate(systems, rnd):
                if system == HT:
                    d = self.ht_latency(slots, c["lat_jobs"], c["gap_ms"])
                elif system.startswith("graphile"):
                    d = self.node("gw.js", ["latency", "--url", self.url("gw"), "--jobs", c["lat_jobs"],
                                            "--slots", slots, "--mode", system.split()[-1],
                                            "--gap-ms", c["gap_ms"]])
                else:
                    d = self.node("boss.js", ["latency", "--url", self.url("boss"),
                                              "--jobs", c["boss_lat_jobs"], "--slots", slots,
                                              "--gap-ms", c["gap_ms"]])
                if d.get("lost"):
                    self.res.note("start latency", f"{system} round {rnd + 1}: {d['lost']} jobs not seen")
                for k in ("p50", "p99", "max"):
                    self.res.add("start latency", f"submit -> running {k}", system, d.get(f"{k}_ms"), "ms", "lower")

    def ht_cancel(self, slots, n):
        self.reset_tasks("ht")
        self.start_api()
        self.start_worker(slots, "worker-cancel")
        wl = WorkerLog(self.worker_log)
        try:
            time.sleep(1.0)
            conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=10)
            hdr = {"Content-Type": "application/json"}
            body = json.dumps({"gremlin": "Thread.sleep(60000)"})
            lat = []
            inner = []
            lost = 0

            def status(tid):
                conn.request("GET", f"/graphs/{GRAPH}/tasks/{tid}")
                r = conn.getresponse()
                return json.loads(r.read()).get("task_status")

            for _ in range(n):
                conn.request("POST", f"/graphs/{GRAPH}/jobs/gremlin", body, hdr)
                r = conn.getresponse()
                tid = json.loads(r.read())["task_id"]
                # running (GET says so); 20 ms more and it is inside its sleep
                deadline = time.time() + 10
                while status(tid) != "running" and time.time() < deadline:
                    time.sleep(0.002)
                time.sleep(0.02)
                t0 = time.perf_counter()
                w0 = time.time()
                conn.request("PUT", f"/graphs/{GRAPH}/tasks/{tid}?action=cancel")
                r = conn.getresponse()
                r.read()
                ok = False
                deadline = time.time() + 15
                while time.time() < deadline:
                    if status(tid) == "cancelled":
                        ok = True
                        break
                t1 = time.perf_counter()
                if ok:
                    lat.append((t1 - t0) * 1000.0)
                    if wl.wait("finished", tid, timeout=1.0):
                        # the log's ms are truncated: take the middle of that ms
                        inner.append(wl.finished[tid] + 0.5 - w0 * 1000.0)
                else:
                    lost += 1
            conn.close()
            if lost:
                self.res.note("cancel latency", f"hugetask: {lost} cancels not seen within 15 s")
            d = lat_summary(lat)
            d["inner"] = lat_summary(inner)
            return d
        finally:
            self.stop_worker()
            self.stop_api()

    def scenario_cancel(self):
        c = self.cfg
        slots = c["slots"][0]
        log(f"cancel latency: {c['cancel_jobs']} running sleep jobs, W={slots}")
        self.res.note("cancel latency", "graphile-worker 0.17 has no call that cancels a running job: no figure")
        for rnd in range(c["rounds"]):
            for system in self.rotate([HT, "pg-boss"], rnd):
                if system == HT:
                    d = self.ht_cancel(slots, c["cancel_jobs"])
                else:
                    d = self.node("boss.js", ["cancel", "--url", self.url("boss"),
                                              "--jobs", c["cancel_jobs"], "--slots", slots])
                for k in ("p50", "p99"):
                    self.res.add("cancel latency", f"cancel -> cancelled {k}", system, d.get(f"{k}_ms"), "ms", "lower")
                if "inner" in d:
                    for k in ("p50", "p99"):
                        self.res.add("cancel latency", f"PUT cancel -> worker's task.finished log line {k}",
                                     system, d["inner"].get(f"{k}_ms"), "ms", "lower")

    def disk_free_gb(self):
        st = os.statvfs(self.tmp)
        return st.f_bavail * st.f_frsize / 1e9

    def scenario_scale(self):
        c = self.cfg
        self.stop_api()
        self.reset_tasks("ht")
        have = 0
        for rows in c["scale_rows"]:
            if rows > 1000000:
                need_gb = rows / 1e6 * 1.5 + 5
                if self.disk_free_gb() < need_gb:
                    self.res.note("scale", f"{rows} rows skipped: {self.disk_free_gb():.0f} GB free, "
                                  f"about {need_gb:.0f} GB needed")
                    continue
            log(f"scale: filling tasks up to {rows} rows")
            t = time.time()
            self.fill_tasks("ht", rows - have, start=have + 1)
            have = rows
            log(f"  filled in {time.time() - t:.0f} s")
            self.checkpoint()
            self.start_api()
            try:
                tag = f"{rows // 1000000}M rows"
                for rnd in range(c["rounds"]):
                    for system in self.rotate([HT, "pgbench"], rnd):
                        if system == HT:
                            self.ht_scale(tag, rows)
                        else:
                            d = self.pgbench_run("ht", "list.sql", 1, seconds=c["scale_pgbench_seconds"])
                            self.res.add("scale", f"{tag}: status=success&limit=100 p50", "pgbench", d["p50_ms"], "ms", "lower")
                            self.res.add("scale", f"{tag}: status=success&limit=100 p99", "pgbench", d["p99_ms"], "ms", "lower")
                            d = self.pgbench_run("ht", "select.sql", 1, seconds=c["scale_pgbench_seconds"],
                                                 defines=dict(maxid=rows))
                            self.res.add("scale", f"{tag}: tasks/{{id}} p50", "pgbench", d["p50_ms"], "ms", "lower")
                            self.res.add("scale", f"{tag}: tasks/{{id}} p99", "pgbench", d["p99_ms"], "ms", "lower")
            finally:
                self.stop_api()

    def ht_scale(self, tag, rows):
        c = self.cfg
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=30)

        def get(path):
            t0 = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            data = r.read()
            ms = (time.perf_counter() - t0) * 1000.0
            if r.status != 200:
                raise RuntimeError(f"GET {path} answered {r.status}: {data[:200]}")
            return ms, data

        k = c["scale_requests"]
        lat = [get(f"/graphs/{GRAPH}/tasks?status=success&limit=100")[0] for _ in range(k)]
        self.res.add("scale", f"{tag}: status=success&limit=100 p50", HT, pct(lat, 50), "ms", "lower")
        self.res.add("scale", f"{tag}: status=success&limit=100 p99", HT, pct(lat, 99), "ms", "lower")
        lat = [get(f"/graphs/{GRAPH}/tasks/{random.randint(1, rows)}")[0] for _ in range(k)]
        self.res.add("scale", f"{tag}: tasks/{{id}} p50", HT, pct(lat, 50), "ms", "lower")
        self.res.add("scale", f"{tag}: tasks/{{id}} p99", HT, pct(lat, 99), "ms", "lower")
        # paging: 50 pages walked from ?page=, then 50 pages walked from a
        # token taken at about 90% of the table (reached once per table size
        # by walking with a large limit; tokens do not depend on the limit)
        pages = c["scale_pages"]

        def walk(token, n):
            out = []
            for _ in range(n):
                ms, data = get(f"/graphs/{GRAPH}/tasks?limit=100&page={urllib.parse.quote(token)}")
                out.append(ms)
                token = json.loads(data).get("page")
                if token is None:
                    break
            return out

        first = walk("", pages)
        key = (tag, rows)
        if key not in self.deep_tokens:
            self.deep_tokens[key] = self.fast_forward(get, int(rows * 0.9))
        token, depth = self.deep_tokens[key]
        self.res.add("scale", f"{tag}: paging, first {pages} pages p50", HT, pct(first, 50), "ms", "lower")
        self.res.add("scale", f"{tag}: paging, first {pages} pages p99", HT, pct(first, 99), "ms", "lower")
        if token:
            deep = walk(token, pages)
            self.res.add("scale", f"{tag}: paging, {pages} pages after row {depth} p50", HT,
                         pct(deep, 50), "ms", "lower")
            self.res.add("scale", f"{tag}: paging, {pages} pages after row {depth} p99", HT,
                         pct(deep, 99), "ms", "lower")
        conn.close()

    def fast_forward(self, get, target):
        """Walks the list with big pages until about `target` rows are
        behind; returns (token, rows behind it)."""
        token, behind = "", 0
        for limit in (10000, 1000):
            try:
                while behind < target:
                    _, data = get(f"/graphs/{GRAPH}/tasks?limit={limit}&page={urllib.parse.quote(token)}")
                    d = json.loads(data)
                    if d.get("page") is None:
                        break
                    token, behind = d["page"], behind + len(d["tasks"])
                return token, behind
            except RuntimeError as e:
                log(f"  fast-forward with limit={limit} failed ({e}); trying a smaller limit")
        return None, 0

    def scenario_memory(self):
        for key, vals in self.mem.items():
            self.res.add("memory (RSS)", key, HT, max(vals), "MB", "lower")

    # -------------------------------------------------------- driver

    def prepare(self):
        for db in ("ht", "pgb"):
            self.migrate(db)

    def run_all(self):
        t0 = time.time()
        self.prepare()
        wanted = self.a.only.split(",") if self.a.only else None
        steps = [("submit", self.scenario_submit), ("read", self.scenario_read),
                 ("drain", self.scenario_drain), ("start latency", self.scenario_latency),
                 ("cancel latency", self.scenario_cancel), ("scale", self.scenario_scale)]
        for name, fn in steps:
            if wanted and name.split()[0] not in wanted:
                continue
            t = time.time()
            fn()
            log(f"{name} done in {time.time() - t:.0f} s")
            if name in self.res.sections:
                print_section(name, self.res.sections[name])
        self.scenario_memory()
        if "memory (RSS)" in self.res.sections:
            print_section("memory (RSS)", self.res.sections["memory (RSS)"])
        self.elapsed = time.time() - t0


def parse_ts_ms(line):
    m = re.search(r"ts=(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", line)
    if not m:
        return None
    y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000 + ms


# ---------------------------------------------------------------- report

def machine_info(b):
    info = {}
    info["cores (nproc)"] = str(os.cpu_count())
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["CPU"] = cpu
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["memory"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    info["kernel"] = platform.release()
    try:
        with open("/etc/debian_version") as f:
            info["Debian"] = f.read().strip()
    except OSError:
        pass
    info["PostgreSQL"] = b.psql("postgres", "SHOW server_version")
    info["PostgreSQL settings"] = ", ".join(
        f"{k}={b.psql('postgres', f'SHOW {k}')}"
        for k in ("synchronous_commit", "fsync", "shared_buffers", "max_wal_size",
                  "max_connections"))
    info["Node.js"] = run(["node", "--version"]).stdout.strip()
    info["wrk"] = (run(["wrk", "--version"], check=False).stdout.splitlines() or ["?"])[0].strip()
    info["pgbench"] = run([b.pgbench, "--version"]).stdout.strip()
    try:
        info["hugetask commit"] = run(["git", "-C", b.root, "rev-parse", "--short", "HEAD"]).stdout.strip() + (
            " (with uncommitted changes)" if run(["git", "-C", b.root, "status", "--porcelain", "--untracked-files=no"]).stdout.strip() else "")
    except RuntimeError:
        pass
    info["hugetask binaries"] = f"`{b.a.build}` (Release)"
    return info


SECTION_TEXT = {
    "submit": "`POST /graphs/hugegraph/jobs/gremlin` with body `{{\"gremlin\":\"1\"}}` driven by wrk "
              "(bench/wrk/submit.lua) for {secs} s per point, no worker running, the tasks table "
              "truncated before each point; beside pgbench running bench/pgbench/insert.sql (one "
              "autocommitted INSERT of the same task row into a table with hugetask's schema) with "
              "the same number of clients. Rate counts successful answers only.",
    "read": "`GET tasks/{{id}}` (random existing id) and `GET tasks?ids=` with 10 random ids, wrk, "
            "over {rows} completed rows; beside pgbench's primary-key SELECT (select.sql) and its "
            "10-id `= ANY` SELECT (select10.sql) on an identical table.",
    "drain": "{jobs} queued no-op jobs, W job slots, jobs/s from the first claim to the last "
             "completion. hugetask: rows inserted with SQL as `queued`, then `hugetask-worker "
             "--workers W` (default settings, batched claims included); first claim "
             "`min(started_at)`, last completion `max(updated_at)`. graphile-worker: `runOnce` with `concurrentJobs` W, from "
             "the first task call to runOnce's return; default mode, and batched mode "
             "(localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0). pg-boss: W "
             "`work()` calls, batchSize 1, polling every 0.5 s (its minimum), from the rows' "
             "first started_on to last completed_on; stopped after {boss} s when not empty. "
             "pgbench: bench/pgbench/claim.sql (claim one row FOR UPDATE SKIP LOCKED, then "
             "finish it) with W clients, from the rows' claim and finish times: the ceiling of "
             "one claim and one finish per job.",
    "start latency": "{lat} jobs (pg-boss: {blat}) submitted one at a time with W={w} idle "
                     "slots; each is submitted after the previous one completed plus {gap} ms. "
                     "submit -> running: hugetask from the client's clock just before the POST to "
                     "the row's `started_at` (the claim; same machine clock); graphile-worker and pg-boss from just "
                     "before addJob/send to the task function being called (same process). "
                     "pg-boss's next submission also waits a random 0..0.5 s so that it lands "
                     "anywhere in its polling cycle.",
    "cancel latency": "{cancel} jobs: hugetask runs `Thread.sleep(60000)`; 20 ms after `GET` "
                      "shows it running, the time from `PUT tasks/{{id}}?action=cancel` until `GET` shows "
                      "`cancelled` (polling without pause); for hugetask also the time from just before the "
                      "PUT to the worker's `evt=task.finished` log line (no HTTP on that end; the log has "
                      "millisecond resolution, the middle of the millisecond is taken). pg-boss: a handler that waits; "
                      "`cancel()` then `getJobById()` until the state is `cancelled` (pg-boss "
                      "only updates the row; the handler is not interrupted).",
    "scale": "The tasks table filled with generate_series (80% success, 10% failed, 10% "
             "cancelled, task-sized rows), then one sequential keep-alive client: {req} "
             "requests of `GET tasks?status=success&limit=100` and of `GET tasks/{{id}}` "
             "(random id); {pages} pages of `?limit=100&page=` walked from the first page, and "
             "{pages} pages walked from a token at about 90% of the table (the token found "
             "once per table size by walking with limit=10000). pgbench: the "
             "same list query (list.sql) and primary-key SELECT, one client, on the same "
             "table.",
    "memory (RSS)": "VmRSS from /proc: the API idle, right after the submit load, and the "
                    "highest value sampled every 0.1 s while wrk ran against it, the worker supervisor and "
                    "its worker processes 1 s after start (idle) and the peak sampled every "
                    "0.2 s during the hugetask drain. Highest over rounds.",
}


def median_of(res, section, prefix, system):
    """Median of the first metric of section whose name starts with prefix."""
    for name, m in res.sections.get(section, {}).items():
        if name.startswith(prefix) and m["values"].get(system):
            return statistics.median(m["values"][system])
    return None


def target_rows(res, cfg):
    """DESIGN.md section 7, each target against this run's medians:
    (target, hugetask, baseline or limit, verdict)."""
    rows = []

    def ratio_row(what, section, prefix, base, want, strict=False):
        h = median_of(res, section, prefix, HT)
        o = median_of(res, section, prefix, base)
        if h is None or o is None or o == 0:
            return
        r = h / o
        ok = r > want if strict else r >= want
        rows.append((what, f"{fmt(h, '/s')} /s", f"{fmt(o, '/s')} /s = {r:.2f}x",
                     "met" if ok else "not met"))

    def limit_row(what, section, prefix, limit, unit="ms"):
        h = median_of(res, section, prefix, HT)
        if h is None:
            return
        rows.append((what, f"{fmt(h, unit)} {unit}", f"< {limit} {unit}",
                     "met" if h < limit else "not met"))

    for c in cfg["clients"]:
        ratio_row(f"submit at {c} connections >= 0.5x pgbench INSERT", "submit",
                  f"{c} clients rate", "pgbench INSERT", 0.5)
    limit_row("submit p99 at 16 connections", "submit", "16 clients p99", 10)
    for c in cfg["read_clients"]:
        ratio_row(f"GET tasks/{{id}} at {c} connections >= 0.5x pgbench SELECT", "read",
                  f"GET tasks/{{id}} {c} clients rate", "pgbench SELECT (1 or 10 ids)", 0.5)
        ratio_row(f"GET tasks?ids= at {c} connections >= 0.5x pgbench SELECT", "read",
                  f"GET tasks?ids= (10) {c} clients rate", "pgbench SELECT (1 or 10 ids)", 0.5)
    for w in cfg["slots"]:
        ratio_row(f"drain W={w} >= 2x graphile-worker default", "drain", f"W={w} jobs/s",
                  "graphile-worker default", 2.0)
        ratio_row(f"drain W={w} ahead of graphile-worker batched", "drain", f"W={w} jobs/s",
                  "graphile-worker batched", 1.0, strict=True)
    h = median_of(res, "start latency", "submit -> running p50", HT)
    g = median_of(res, "start latency", "submit -> running p50", "graphile-worker default")
    if h is not None and g is not None:
        rows.append(("submit -> running p50 below graphile-worker's", f"{fmt(h, 'ms')} ms",
                     f"{fmt(g, 'ms')} ms", "met" if h < g else "not met"))
    limit_row("cancel -> cancelled p99", "cancel latency", "cancel -> cancelled p99", 100)
    limit_row("1M rows: status=success&limit=100 p99", "scale",
              "1M rows: status=success&limit=100 p99", 20)
    first = deep = None
    for name in res.sections.get("scale", {}):
        if name.startswith("1M rows: paging,") and name.endswith("p99"):
            if "after row" in name:
                deep = median_of(res, "scale", name, HT)
            else:
                first = median_of(res, "scale", name, HT)
    if first is not None and deep is not None:
        rows.append(("1M rows: a deep page costs what the first does (p99)", f"{fmt(deep, 'ms')} ms",
                     f"first pages {fmt(first, 'ms')} ms",
                     "met" if deep <= 2 * first + 1 else "not met"))
    limit_row("API RSS under load", "memory (RSS)", "api peak under submit load", 30, "MB")
    limit_row("idle worker process RSS", "memory (RSS)", "worker process idle", 10, "MB")
    return rows


def targets_section(res, cfg):
    rows = target_rows(res, cfg)
    if not rows:
        return []
    L = ["", "## Targets (DESIGN.md section 7)", "",
         "Each target checked against this run's medians.", "",
         "| target | hugetask | baseline or limit | |", "|---|---|---|---|"]
    for r in rows:
        L.append("| " + " | ".join(r) + " |")
    return L


def write_doc(b, path, mode):
    c = b.cfg
    info = machine_info(b)
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    L = []
    L.append("# hugetask performance, side by side")
    L.append("")
    L.append(f"Generated by `./bench/run.sh{' --quick' if mode == 'quick' else ''}` on {date} "
             f"({mode} mode, {c['rounds']} rounds, {b.elapsed / 60:.1f} minutes). "
             "Do not edit by hand, except the Analysis section: run the bench again.")
    if mode == "quick":
        L.append("")
        L.append("**Quick mode**: fewer rounds and smaller sizes than the full run; "
                 "`./bench/run.sh` (full mode) regenerates this file with the reference figures.")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    for k, v in info.items():
        L.append(f"| {k} | {v} |")
    L.append("")
    L.append("All systems ran on this one machine against one PostgreSQL cluster started by the "
             "bench (each in its own database), with the load generators on the same cores. "
             f"hugetask: Release build, `hugetask-api --threads {b.a.api_threads}`, otherwise "
             "default settings (log level info).")
    L.append("")
    L.append("Each cell is the median over rounds with the spread (min..max) in parentheses. "
             "Systems run alternately within each round, in rotating order. Ratio columns are "
             "hugetask's median divided by the baseline's median: for rates above 1 means hugetask "
             "moved more; for latencies and memory below 1 means hugetask took less.")
    fmtargs = dict(secs=c["http_seconds"], rows=c["read_rows"], jobs=c["drain_jobs"],
                   boss=c["boss_drain_seconds"], lat=c["lat_jobs"], blat=c["boss_lat_jobs"],
                   w=c["slots"][0], gap=c["gap_ms"], cancel=c["cancel_jobs"],
                   req=c["scale_requests"], pages=c["scale_pages"])
    for name in b.res.order:
        sec = b.res.sections[name]
        L.append("")
        L.append(f"## {name}")
        L.append("")
        if name in SECTION_TEXT:
            L.append(SECTION_TEXT[name].format(**fmtargs))
            L.append("")
        head, rows = table_rows(sec)
        L.append("| " + " | ".join(head) + " |")
        L.append("|" + "|".join("---" for _ in head) + "|")
        for r in rows:
            L.append("| " + " | ".join(str(x) for x in r) + " |")
        for n in b.res.notes.get(name, []):
            L.append("")
            L.append(f"- {n}")
    L.extend(targets_section(b.res, c))
    L.append("")
    # Hand-written sections kept as they are: "## Analysis" (what moved the
    # numbers, and why a target is not met) and bench/gremlin.sh's
    # "## Gremlin", which come last in this order.
    try:
        with open(path) as f:
            old = f.read()
        for head in ("\n## Analysis", "\n## Gremlin"):
            at = old.find(head)
            if at < 0:
                continue
            end = old.find("\n## Gremlin", at + 1) if head != "\n## Gremlin" else -1
            L.append(old[at + 1:end if end >= 0 else len(old)].rstrip("\n"))
            L.append("")
    except OSError:
        pass
    with open(path, "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--only", default="", help="comma list: submit,read,drain,start,cancel,scale")
    ap.add_argument("--root", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--pg-port", type=int, required=True)
    ap.add_argument("--pgbench", required=True)
    ap.add_argument("--psql", required=True)
    ap.add_argument("--api-threads", type=int, default=72)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    b = Bench(a)
    try:
        b.run_all()
        with open(a.json, "w") as f:
            json.dump(dict(settings=b.cfg, results=b.res.to_json(), memory_samples=b.mem), f, indent=1)
        write_doc(b, a.out, "quick" if a.quick else "full")
        log(f"wrote {a.out} and {a.json}")
    finally:
        PROCS.stop_all()


if __name__ == "__main__":
    main()
