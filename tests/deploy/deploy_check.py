#!/usr/bin/python3
"""tests/deploy/deploy_check.py - checks of the docker-compose deployment.

No Docker engine is needed: what can be checked without one is checked
against the real tools and the real build.

  compose    ROOT API_BIN WORKER_BIN
      `docker-compose config -q` passes on deploy/docker-compose.yml (and
      fails on broken copies of it, so the check can fail); then the
      resolved file is read: replicas, health checks, one-shots, published
      ports, every environment variable is a knob the binaries' --help
      lists, the workers dial the api's PUB port, the load balancer and
      Grafana mounts point at files that exist.
  dockerfile ROOT BUILD_DIR BIN...
      the Dockerfile's build stage calls the deploy/lib.sh functions that
      deploy/run.sh calls to build, in the same order and with no extra
      CMake arguments; the runtime stage installs ht_runtime_packages, runs
      as a non-root user and ships the binaries this build produces.
  libs       ROOT SANITIZE BIN...
      every shared library the binaries link (ldd) comes from a package of
      ht_runtime_packages (dpkg -S), or, for what those libraries link in
      turn, from a package those packages depend on.
  dashboard  ROOT API_BIN
      every SQL query of the Grafana dashboard reads only ht_* views defined
      in sql/; with HT_TEST_PGURL set, each one also runs against a freshly
      migrated database as the role deploy/grafana/grants.sql makes (SELECT
      on the views only), Grafana's macros replaced by plain SQL.
  health     ROOT API_BIN WORKER_BIN
      deploy/docker/healthcheck.sh passes against a real hugetask-api and
      hugetask-worker (/health) and fails once they are gone or on a path
      that answers 404.  Needs HT_TEST_PGURL (exit 77 without it).

Exit status 0 when every check passed, 1 when one failed (each failure is
printed), 77 when the check cannot run here.  Waits scale with
HT_TEST_TIMEOUT_MULT.
"""

import ctypes
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import yaml

SKIP = 77
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def note(msg):
    print(msg, file=sys.stderr)


def run(argv, **kw):
    """Runs argv, returns CompletedProcess with text output."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(argv, text=True, **kw)


def timeout_mult():
    try:
        m = float(os.environ.get("HT_TEST_TIMEOUT_MULT", "1"))
        return m if m > 0 else 1.0
    except ValueError:
        return 1.0


def lib_sh_eval(root, script):
    """Runs script in bash after sourcing deploy/lib.sh; returns stdout."""
    lib = os.path.join(root, "deploy", "lib.sh")
    p = run(["bash", "-c", '. "$1" && shift && eval "$1"', "lib", lib, script])
    if p.returncode != 0:
        raise RuntimeError("bash with deploy/lib.sh failed: %s" % p.stderr)
    return p.stdout


def runtime_packages(root):
    pkgs = [l.strip() for l in lib_sh_eval(root, "ht_runtime_packages").split("\n")]
    return [p for p in pkgs if p]


# ---------------------------------------------------------------- compose

def compose_file(root):
    return os.path.join(root, "deploy", "docker-compose.yml")


def docker_compose():
    exe = shutil.which("docker-compose")
    if exe is None:
        fail("docker-compose is not installed (deploy/lib.sh's ht_install_deps installs it)")
    return exe


_EMPTY_ENV = []


def empty_env_file():
    """An empty file for --env-file (docker-compose refuses /dev/null)."""
    if not _EMPTY_ENV:
        fd, path = tempfile.mkstemp(prefix="ht-deploy-", suffix=".env")
        os.close(fd)
        _EMPTY_ENV.append(path)
    return _EMPTY_ENV[0]


def compose_config(exe, path, project_dir, extra=()):
    argv = [exe, "--env-file", empty_env_file(), "-f", path,
            "--project-directory", project_dir]
    argv += list(extra)
    return run(argv + ["config"], env=compose_env())


def compose_env():
    # Only what the file itself says counts: neither HUGETASK_* or
    # COMPOSE_* from the caller's environment nor an .env beside the file
    # (every call passes an empty --env-file) may change what is checked.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HUGETASK_", "COMPOSE_", "DOCKER_"))}
    return env


BROKEN_VARIANTS = [
    # (what, old text, new text)
    ("a replica count that is not a number", "replicas: 3", "replicas: three"),
    ("an unknown service option", "    stop_grace_period: 15s",
     "    stop_grace_periodx: 15s"),
    ("a dependency on a service that does not exist",
     "      migrate:\n        condition: service_completed_successfully\n    deploy:\n      replicas: 3",
     "      migrat:\n        condition: service_completed_successfully\n    deploy:\n      replicas: 3"),
    ("an unknown depends_on condition", "condition: service_healthy",
     "condition: service_happy"),
    ("a build context that does not exist", "context: ..", "context: ../no-such-dir"),
]


def help_env_names(binary):
    p = run([binary, "--help"])
    if p.returncode != 0:
        fail("%s --help exited %d: %s" % (binary, p.returncode, p.stderr))
        return set()
    return set(re.findall(r"\b(HUGETASK_[A-Z0-9_]+|DATABASE_URL)\b", p.stdout))


def listen_port(addr, what):
    m = re.fullmatch(r"(.*):(\d+)", addr or "")
    if not m:
        fail("%s: '%s' is not HOST:PORT" % (what, addr))
        return None
    return int(m.group(2))


def check_compose(root, api_bin, worker_bin):
    exe = docker_compose()
    if exe is None:
        return
    path = compose_file(root)
    deploy_dir = os.path.dirname(path)
    for extra in ([], ["--profile", "monitoring"]):
        p = run([exe, "--env-file", empty_env_file(), "-f", path] + extra +
                ["config", "-q"], env=compose_env())
        if p.returncode != 0:
            fail("docker-compose -f deploy/docker-compose.yml %sconfig -q exited %d:\n%s"
                 % (" ".join(extra) + " " if extra else "", p.returncode, p.stderr))
            return
    note("ok: docker-compose config -q accepts deploy/docker-compose.yml")

    # The validator must be able to say no: broken copies must fail.
    with open(path) as f:
        text = f.read()
    with tempfile.TemporaryDirectory(prefix="ht-deploy-") as tmp:
        for what, old, new in BROKEN_VARIANTS:
            if old not in text:
                fail("negative control '%s': the text %r is no longer in the "
                     "compose file; update BROKEN_VARIANTS" % (what, old))
                continue
            bad = os.path.join(tmp, "broken.yml")
            with open(bad, "w") as f:
                f.write(text.replace(old, new, 1))
            p = run([exe, "--env-file", empty_env_file(), "-f", bad,
                     "--project-directory", deploy_dir, "config", "-q"],
                    env=compose_env())
            if p.returncode == 0:
                fail("docker-compose config accepted a file with %s: the "
                     "validation proves nothing" % what)
            else:
                note("ok: docker-compose config rejects %s" % what)

    p = compose_config(exe, path, deploy_dir, ["--profile", "monitoring"])
    if p.returncode != 0:
        fail("docker-compose config failed: %s" % p.stderr)
        return
    cfg = yaml.safe_load(p.stdout)
    services = cfg.get("services", {})
    check_compose_services(root, services, cfg, api_bin, worker_bin)


def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def check_compose_services(root, services, cfg, api_bin, worker_bin):
    for name in ("db", "migrate", "api", "lb", "worker"):
        if name not in services:
            fail("compose: no service '%s'" % name)
    if FAILURES:
        return
    db, migrate, api, lb, worker = (services[n] for n in
                                    ("db", "migrate", "api", "lb", "worker"))

    # PostgreSQL 15, data in a named volume, pg_isready.
    if db.get("image") != "postgres:15":
        fail("compose: db image is %r, not postgres:15" % db.get("image"))
    named = set((cfg.get("volumes") or {}).keys())
    if not any(v.split(":")[0] in named and v.split(":")[1] == "/var/lib/postgresql/data"
               for v in db.get("volumes", []) if isinstance(v, str)):
        fail("compose: db keeps /var/lib/postgresql/data outside a named volume")
    if "pg_isready" not in json.dumps(db.get("healthcheck", {}).get("test")):
        fail("compose: db's health check does not use pg_isready")

    # Several replicas of the api and of the worker.
    for name, svc in (("api", api), ("worker", worker)):
        reps = (svc.get("deploy") or {}).get("replicas", svc.get("scale", 1))
        if not isinstance(reps, int) or reps < 2:
            fail("compose: %s has %r replicas, expected at least 2" % (name, reps))

    # Health checks: every long-running service has one; a one-shot has
    # none, runs once, and the others wait for its successful exit.
    waited_for = set()
    for name, svc in services.items():
        for dep, how in (svc.get("depends_on") or {}).items():
            if isinstance(how, dict) and how.get("condition") == "service_completed_successfully":
                waited_for.add(dep)
    for name, svc in services.items():
        hc = svc.get("healthcheck") or {}
        test = hc.get("test")
        disabled = hc.get("disable") or test in (["NONE"], "NONE")
        oneshot = str(svc.get("restart", "no")) == "no"
        if oneshot:
            if name not in waited_for:
                fail("compose: one-shot service %s is not waited for with "
                     "service_completed_successfully" % name)
            continue
        if disabled or not test:
            fail("compose: service %s has no health check" % name)
        if str(svc.get("restart")) not in ("always", "unless-stopped", "on-failure"):
            fail("compose: long-running service %s has restart %r"
                 % (name, svc.get("restart")))
    if "--migrate" not in (migrate.get("command") or []):
        fail("compose: migrate does not run --migrate (command %r)" % migrate.get("command"))
    for name in ("api", "worker"):
        deps = services[name].get("depends_on") or {}
        if (deps.get("migrate") or {}).get("condition") != "service_completed_successfully":
            fail("compose: %s does not wait for migrate to succeed" % name)
        if (deps.get("db") or {}).get("condition") != "service_healthy":
            fail("compose: %s does not wait for a healthy db" % name)

    # Images: the Dockerfile's targets; only the edge publishes ports.
    for name, target in (("migrate", "api"), ("api", "api"), ("worker", "worker")):
        b = services[name].get("build") or {}
        df = os.path.normpath(os.path.join(b.get("context", ""), b.get("dockerfile", "")))
        if df != os.path.join(root, "deploy", "docker", "Dockerfile") or b.get("target") != target:
            fail("compose: %s is not built from deploy/docker/Dockerfile target %s "
                 "(build %r)" % (name, target, b))
    if os.path.normpath(api.get("build", {}).get("context", "")) != os.path.normpath(root):
        fail("compose: the build context is not the repository root")
    for name, svc in services.items():
        if svc.get("ports") and name not in ("lb", "grafana"):
            fail("compose: %s publishes ports; only lb (and grafana) should" % name)
    if not lb.get("ports"):
        fail("compose: lb publishes no port")

    # Configuration by environment, with names the binaries know.
    api_env_ok = help_env_names(api_bin)
    worker_env_ok = help_env_names(worker_bin)
    for name, known in (("migrate", api_env_ok), ("api", api_env_ok),
                        ("worker", worker_env_ok)):
        env = env_of(services[name])
        for k in env:
            if k not in known:
                fail("compose: %s sets %s, which `%s --help` does not list"
                     % (name, k, os.path.basename(api_bin if known is api_env_ok
                                                  else worker_bin)))
        url = urllib.parse.urlsplit(env.get("DATABASE_URL", ""))
        if url.hostname != "db":
            fail("compose: %s's DATABASE_URL does not point at the db service" % name)
    api_env, worker_env = env_of(api), env_of(worker)
    http_port = listen_port(api_env.get("HUGETASK_LISTEN"), "api HUGETASK_LISTEN")
    pub = urllib.parse.urlsplit(api_env.get("HUGETASK_PUB", ""))
    if pub.scheme != "tcp" or pub.hostname not in ("0.0.0.0", "*", "::"):
        fail("compose: api's HUGETASK_PUB %r does not bind every interface"
             % api_env.get("HUGETASK_PUB"))
    if not api_env.get("HUGETASK_LISTEN", "").startswith("0.0.0.0:"):
        fail("compose: api's HUGETASK_LISTEN does not listen on every interface")
    subs = [s for s in worker_env.get("HUGETASK_SUBSCRIBE", "").split(",") if s]
    if not subs:
        fail("compose: the worker has no HUGETASK_SUBSCRIBE")
    for s in subs:
        u = urllib.parse.urlsplit(s)
        if u.hostname not in services or u.port != pub.port:
            fail("compose: worker subscribes to %s, which is not an api "
                 "service's PUB port %s" % (s, pub.port))
    metrics = worker_env.get("HUGETASK_METRICS_LISTEN")
    if not metrics:
        fail("compose: the worker sets no HUGETASK_METRICS_LISTEN, so its "
             "health check has nothing to ask")

    check_lb(root, lb, http_port)
    if "grafana" in services:
        check_grafana_service(root, services["grafana"], services.get("grafana-grants"))
    if not FAILURES:
        note("ok: the resolved compose file has replicas, health checks, "
             "known environment variables and consistent ports")


def host_mounts(svc):
    """{container path: host path} of a service's bind mounts."""
    out = {}
    for v in svc.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            if len(parts) >= 2 and parts[0].startswith("/"):
                out[parts[1]] = parts[0]
        elif isinstance(v, dict) and v.get("type") == "bind":
            out[v["target"]] = v["source"]
    return out


def check_lb(root, lb, http_port):
    mounts = host_mounts(lb)
    cfg_path = mounts.get("/usr/local/etc/haproxy/haproxy.cfg")
    if cfg_path is None or not os.path.isfile(cfg_path):
        fail("compose: lb does not mount an existing haproxy.cfg (%r)" % cfg_path)
        return
    hc = mounts.get("/usr/local/bin/hugetask-healthcheck")
    if hc is None or not os.path.isfile(hc):
        fail("compose: lb's health check script is not mounted from the repository")
    with open(cfg_path) as f:
        text = f.read()
    m = re.search(r"^\s*server-template\s+\S+\s+\d+\s+([A-Za-z0-9_.-]+):(\d+)\s",
                  text, re.M)
    if not m:
        fail("haproxy.cfg: no server-template line for the api replicas")
    else:
        if m.group(1) != "api" or int(m.group(2)) != http_port:
            fail("haproxy.cfg: the servers are %s:%s, not api:%s"
                 % (m.group(1), m.group(2), http_port))
    if not re.search(r"^\s*balance\s+roundrobin\b", text, re.M):
        fail("haproxy.cfg: the api backend does not balance round-robin")
    if not re.search(r"^\s*option\s+httpchk\s+GET\s+/health\b", text, re.M):
        fail("haproxy.cfg: the api replicas are not checked on GET /health")
    binds = re.findall(r"^\s*bind\s+\S*:(\d+)", text, re.M)
    targets = [str(p).split(":")[-1].split("/")[0] for p in lb.get("ports", [])
               if isinstance(p, str)]
    targets += [str(p.get("target")) for p in lb.get("ports", []) if isinstance(p, dict)]
    for t in targets:
        if t not in binds:
            fail("compose: lb publishes container port %s, haproxy binds %s" % (t, binds))


def check_grafana_service(root, grafana, grants):
    mounts = host_mounts(grafana)
    prov = mounts.get("/etc/grafana/provisioning")
    if prov is None or os.path.normpath(prov) != os.path.join(root, "deploy", "grafana", "provisioning"):
        fail("compose: grafana does not mount deploy/grafana/provisioning")
        return
    with open(os.path.join(prov, "dashboards", "hugetask.yml")) as f:
        dprov = yaml.safe_load(f)
    dash_dir = dprov["providers"][0]["options"]["path"]
    if dash_dir not in mounts or not os.path.isfile(
            os.path.join(mounts[dash_dir], "hugetask.json")):
        fail("compose: grafana's dashboard folder %s is not mounted from "
             "deploy/grafana/dashboards" % dash_dir)
    home = env_of(grafana).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", "")
    if home and not home.startswith(dash_dir + "/"):
        fail("compose: grafana's home dashboard %s is outside %s" % (home, dash_dir))
    if grants is None or "/grants.sql" not in host_mounts(grants):
        fail("compose: no grafana-grants one-shot running deploy/grafana/grants.sql")


# ------------------------------------------------------------- dockerfile

def dockerfile_stages(path):
    """[(name, base, [(instruction, args)])] with continuations joined."""
    with open(path) as f:
        lines = f.read().split("\n")
    logical, cur = [], ""
    for line in lines:
        if not cur and (line.strip().startswith("#") or not line.strip()):
            continue
        if line.strip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        logical.append(cur + line)
        cur = ""
    stages = []
    for l in logical:
        m = re.match(r"\s*([A-Za-z]+)\s+(.*)", l)
        if not m:
            continue
        ins, args = m.group(1).upper(), m.group(2).strip()
        if ins == "FROM":
            fm = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            stages.append((fm.group(2), fm.group(1), []))
        elif stages:
            stages[-1][2].append((ins, args))
    return stages


HT_CALL = re.compile(r"(?<![\w$-])(ht_[a-z_]+)((?:[ \t]+[^;&|\n]+)?)")


# Messages, not steps: `ht_build DIR || ht_die "..."` builds the same.
NOT_STEPS = {"ht_die", "ht_log"}


def ht_calls(text, defined):
    """[(function, [args])] of the deploy/lib.sh functions text calls."""
    calls = []
    for m in HT_CALL.finditer(text):
        if m.group(1) not in defined or m.group(1) in NOT_STEPS:
            continue
        args = shlex.split(m.group(2)) if m.group(2).strip() else []
        calls.append((m.group(1), args))
    return calls


def lib_functions(root):
    with open(os.path.join(root, "deploy", "lib.sh")) as f:
        return set(re.findall(r"^(ht_[a-z_]+)\(\)", f.read(), re.M))


def run_sh_build_block(text):
    """The body of run.sh's `if [ -z "${HT_SKIP_BUILD:-}" ]; then ... fi`."""
    m = re.search(r'^if \[ -z "\$\{HT_SKIP_BUILD:-\}" \]; then\n(.*?)^fi$', text,
                  re.M | re.S)
    return m.group(1) if m else None


def compare_build_steps(run_sh_text, build_stage_runs, defined):
    """Returns a list of problems (empty when the steps are the same)."""
    problems = []
    block = run_sh_build_block(run_sh_text)
    if block is None:
        return ["deploy/run.sh has no `if [ -z \"${HT_SKIP_BUILD:-}\" ]` build block"]
    ours = ht_calls(block, defined)
    theirs = []
    for r in build_stage_runs:
        theirs += ht_calls(r, defined)
    if [c[0] for c in ours] != [c[0] for c in theirs]:
        problems.append("deploy/run.sh builds with %s, the Dockerfile's build "
                        "stage with %s" % ([c[0] for c in ours], [c[0] for c in theirs]))
    for name, calls in (("deploy/run.sh", ours), ("the Dockerfile", theirs)):
        for fn, args in calls:
            if fn == "ht_install_deps" and args:
                problems.append("%s passes extra packages to ht_install_deps: %s"
                                % (name, args))
            if fn == "ht_build" and len(args) != 1:
                problems.append("%s passes more than the build directory to "
                                "ht_build: %s" % (name, args))
    if not ours:
        problems.append("deploy/run.sh's build block calls no deploy/lib.sh function")
    return problems


def check_dockerfile(root, build_dir, bins):
    path = os.path.join(root, "deploy", "docker", "Dockerfile")
    stages = dockerfile_stages(path)
    by_name = {s[0]: s for s in stages if s[0]}
    defined = lib_functions(root)
    for want in ("ht_install_deps", "ht_build", "ht_runtime_packages"):
        if want not in defined:
            fail("deploy/lib.sh defines no %s" % want)
    if "build" not in by_name:
        fail("Dockerfile: no stage named build")
        return
    _, base, build_ins = by_name["build"]
    if base != "debian:12":
        fail("Dockerfile: the build stage is %s, not debian:12 (what run.sh "
             "and the tests run on)" % base)
    runs = [a for i, a in build_ins if i == "RUN"]
    with open(os.path.join(root, "deploy", "run.sh")) as f:
        run_sh = f.read()
    problems = compare_build_steps(run_sh, runs, defined)
    for p in problems:
        fail(p)
    # The comparison itself must be able to fail: once it passes, a run.sh
    # with an extra CMake argument or without ht_install_deps must not.
    controls = (("an extra CMake argument",
                 'ht_build "$build"', 'ht_build "$build" -DHT_SANITIZE=ON'),
                ("a missing ht_install_deps", "    ht_install_deps\n", ""))
    for what, old, new in controls if not problems else ():
        mutated = run_sh.replace(old, new, 1)
        if mutated == run_sh or not compare_build_steps(mutated, runs, defined):
            fail("negative control: the build-step comparison did not notice "
                 "%s in run.sh" % what)

    # Where ht_build puts the binaries: the Dockerfile copies them from
    # the paths this build tree has them at.
    copied = set()
    for _, a in build_ins:
        for m in re.finditer(r"\bbuild/(\S+)", a):
            copied.add(m.group(1))
    for b in bins:
        rel = os.path.relpath(b, build_dir)
        if rel not in copied:
            fail("Dockerfile: the build stage does not ship build/%s" % rel)

    # Runtime: debian:12-slim, the shared package list, a non-root user.
    rt = by_name.get("runtime")
    if rt is None:
        fail("Dockerfile: no stage named runtime")
        return
    if rt[1] != "debian:12-slim":
        fail("Dockerfile: the runtime stage is %s, not debian:12-slim" % rt[1])
    rt_runs = " ".join(a for i, a in rt[2] if i == "RUN")
    if "ht_runtime_packages" not in rt_runs:
        fail("Dockerfile: the runtime stage does not install ht_runtime_packages")
    if re.search(r"apt-get install[^&;]*\blib[a-z0-9]+\d\b", rt_runs):
        fail("Dockerfile: the runtime stage names library packages itself "
             "instead of using ht_runtime_packages")
    for target, binary in (("api", "hugetask-api"), ("worker", "hugetask-worker")):
        st = by_name.get(target)
        if st is None:
            fail("Dockerfile: no target %s" % target)
            continue
        if st[1] != "runtime":
            fail("Dockerfile: target %s is not built on the runtime stage" % target)
        users = [a for i, a in rt[2] + st[2] if i == "USER"]
        if not users or users[-1] in ("root", "0", "0:0"):
            fail("Dockerfile: target %s runs as root" % target)
        eps = [a for i, a in st[2] if i == "ENTRYPOINT"]
        if not eps or json.loads(eps[-1])[0] != binary:
            fail("Dockerfile: target %s's ENTRYPOINT is not %s" % (target, binary))
        if not [a for i, a in st[2] if i == "EXPOSE"]:
            fail("Dockerfile: target %s exposes no port" % target)
        if not [a for i, a in st[2] if i == "HEALTHCHECK"]:
            fail("Dockerfile: target %s has no HEALTHCHECK" % target)
    ignore = os.path.join(root, ".dockerignore")
    if not os.path.isfile(ignore):
        fail("no .dockerignore: the build context would carry build trees")
    else:
        with open(ignore) as f:
            pats = {l.strip().rstrip("/") for l in f if l.strip() and not l.startswith("#")}
        for must in ("build", "build-*", "var"):
            if must not in pats:
                fail(".dockerignore does not leave out %s" % must)
    if not FAILURES:
        note("ok: the Dockerfile builds with %s, as deploy/run.sh does, and "
             "its runtime stage is debian:12-slim with ht_runtime_packages as "
             "a non-root user" % [c[0] for c in ht_calls(run_sh_build_block(run_sh), defined)])


# ------------------------------------------------------------------- libs

def usr_twins(path):
    """path, its real path, and their twins across the /usr merge."""
    out = []
    for c in (path, os.path.realpath(path)):
        for d in (c, c[4:] if c.startswith("/usr/") else "/usr" + c):
            if d not in out:
                out.append(d)
    return out


def dpkg_owners(paths):
    """{path: package (no :arch)} for the paths Debian packages ship; one
    dpkg -S for all of them (it exits 1 when some path is nobody's)."""
    cands = {c: p for p in paths for c in usr_twins(p)}
    if not cands:
        return {}
    out = {}
    proc = run(["dpkg", "-S"] + sorted(cands))
    for line in proc.stdout.split("\n"):
        m = re.match(r"([^:,\s]+)(?::[^:,\s]+)?(?:, [^:]+)?: (/\S+)$", line)
        if m and m.group(2) in cands:
            out.setdefault(cands[m.group(2)], m.group(1))
    return out


def ldd_libs(binary):
    """{soname: path} of every library ldd resolves for binary."""
    p = run(["ldd", binary])
    if p.returncode != 0:
        fail("ldd %s failed: %s" % (binary, p.stderr))
        return {}
    out = {}
    for line in p.stdout.split("\n"):
        line = line.strip()
        m = re.match(r"(\S+)\s+=>\s+(\S+)\s+\(", line)
        if m:
            if m.group(2) == "not":
                fail("%s: %s is not found" % (binary, m.group(1)))
            else:
                out[m.group(1)] = m.group(2)
        else:
            m = re.match(r"(/\S+)\s+\(", line)
            if m:
                out[os.path.basename(m.group(1))] = m.group(1)
        if "not found" in line:
            fail("%s: %s" % (binary, line))
    return out


def needed(binary):
    p = run(["readelf", "-d", binary])
    if p.returncode != 0:
        fail("readelf -d %s failed: %s" % (binary, p.stderr))
        return []
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)


def depends_closure(pkgs):
    """Installed packages reachable from pkgs through Depends/Pre-Depends."""
    p = run(["dpkg-query", "-W", "-f", "${Package}\t${Depends},${Pre-Depends}\n"])
    if p.returncode != 0:
        raise RuntimeError("dpkg-query -W failed: %s" % p.stderr)
    deps = {}
    for line in p.stdout.split("\n"):
        if "\t" not in line:
            continue
        name, rest = line.split("\t", 1)
        names = deps.setdefault(name, set())
        for alt_group in rest.split(","):
            for alt in alt_group.split("|"):
                d = re.sub(r"\(.*?\)", "", alt).strip().split(":")[0]
                if d:
                    names.add(d)
    seen, todo = set(), list(pkgs)
    while todo:
        pkg = todo.pop()
        if pkg not in seen:
            seen.add(pkg)
            todo.extend(deps.get(pkg, ()))
    return seen


SANITIZER_LIB = re.compile(r"^lib(asan|ubsan|lsan|tsan|hwasan)\.so")


def check_libs(root, sanitize, bins):
    pkgs = runtime_packages(root)
    if not pkgs:
        fail("ht_runtime_packages lists nothing")
        return
    listed = set(pkgs)
    closure = depends_closure(pkgs)
    used = set()
    per_bin = [(b, ldd_libs(b), needed(b)) for b in bins]
    owner = dpkg_owners({path for _, libs, _ in per_bin for path in libs.values()})
    for b, libs, direct in per_bin:
        name = os.path.basename(b)
        for soname in direct:
            if sanitize and SANITIZER_LIB.match(soname):
                note("%s: %s is the sanitizer runtime of this build, not "
                     "shipped (the image is built without HT_SANITIZE)" % (name, soname))
                continue
            path = libs.get(soname)
            if path is None:
                fail("%s links %s, which ldd does not resolve" % (b, soname))
                continue
            pkg = owner.get(path)
            if pkg is None:
                fail("%s links %s (%s), which no Debian package ships"
                     % (name, soname, path))
            elif pkg not in listed:
                fail("%s links %s from package %s, which ht_runtime_packages "
                     "does not list" % (name, soname, pkg))
            else:
                used.add(pkg)
                note("%s: %s <- %s" % (name, soname, pkg))
        for soname, path in libs.items():
            if soname in direct or soname == "linux-vdso.so.1":
                continue
            if sanitize and SANITIZER_LIB.match(soname):
                continue
            pkg = owner.get(path)
            if pkg is None:
                fail("%s needs %s (%s), which no Debian package ships"
                     % (name, soname, path))
            elif pkg not in closure:
                fail("%s needs %s from %s, which no package of "
                     "ht_runtime_packages depends on" % (name, soname, pkg))
    for p in pkgs:
        if p not in used:
            fail("ht_runtime_packages lists %s, which ships no library the "
                 "binaries link" % p)
    if not FAILURES:
        note("ok: every library of %s comes from %s or their dependencies"
             % (", ".join(os.path.basename(b) for b in bins), " ".join(pkgs)))


# -------------------------------------------------------------- dashboard

def sql_views(root):
    views = set()
    sqldir = os.path.join(root, "sql")
    for name in sorted(os.listdir(sqldir)):
        if name.endswith(".sql"):
            with open(os.path.join(sqldir, name)) as f:
                views |= set(v.lower() for v in re.findall(
                    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:public\.)?(\w+)",
                    f.read(), re.I))
    return views


def dashboard_queries(dash):
    """[(where, sql, target)] of every panel target and query variable."""
    out = []

    def walk(panels):
        for p in panels or []:
            if p.get("type") == "row":
                walk(p.get("panels"))
                continue
            targets = p.get("targets") or []
            if not targets:
                fail("dashboard: panel %r has no query" % p.get("title"))
            for t in targets:
                out.append(("panel %r query %s" % (p.get("title"), t.get("refId")),
                            t.get("rawSql"), t, p))
    walk(dash.get("panels"))
    for v in (dash.get("templating") or {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            if isinstance(q, dict):
                q = q.get("rawSql") or q.get("query")
            out.append(("variable %r" % v.get("name"), q, v, v))
    return out


TOKEN = re.compile(r"\s+|(?P<id>[A-Za-z_][A-Za-z0-9_$]*)|(?P<q>\"[^\"]*\")|(?P<p>.)")
NOT_RELATION_FUNCS = {"extract", "substring", "trim", "overlay", "position"}


def strip_sql(sql):
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def relations(sql):
    """Names read by FROM and JOIN in sql (CTE names excluded), and the
    names called as functions in a FROM clause."""
    text = strip_sql(sql)
    toks = []
    for m in TOKEN.finditer(text):
        if m.group("id"):
            toks.append(m.group("id").lower())
        elif m.group("q"):
            toks.append(m.group("q")[1:-1].lower())
        elif m.group("p"):
            toks.append(m.group("p"))
    ctes = set(re.findall(r"(?:\bwith\s+(?:recursive\s+)?|,\s*)(\w+)\s+as\s*\(",
                          text.lower()))
    rels, funcs, stack = [], [], []
    prev = None
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "(":
            stack.append(prev)
        elif t == ")":
            if stack:
                stack.pop()
        elif t in ("from", "join") and not (stack and stack[-1] in NOT_RELATION_FUNCS):
            j = i + 1
            while j < len(toks):
                if toks[j] == "lateral" or toks[j] == "only":
                    j += 1
                    continue
                if toks[j] == "(":
                    break
                name = toks[j]
                while j + 2 < len(toks) and toks[j + 1] == ".":
                    name = toks[j + 2]
                    j += 2
                if j + 1 < len(toks) and toks[j + 1] == "(":
                    funcs.append(name)
                    break
                if name not in ctes:
                    rels.append(name)
                # FROM a [AS] x, b ...: another relation after a comma.
                k = j + 1
                if k < len(toks) and toks[k] == "as":
                    k += 1
                if k < len(toks) and re.fullmatch(r"[a-z_]\w*", toks[k]) and \
                        toks[k] not in SQL_KEYWORDS:
                    k += 1
                if t == "from" and k < len(toks) and toks[k] == ",":
                    j = k + 1
                    continue
                break
        prev = t
        i += 1
    return rels, funcs


SQL_KEYWORDS = {"where", "group", "order", "limit", "offset", "join", "left",
                "right", "inner", "outer", "full", "cross", "on", "union",
                "except", "intersect", "having", "window", "natural", "using",
                "fetch", "for", "lateral"}

MACRO_FROM = "now() - interval '6 hours'"
MACRO_TO = "now()"


def expand_macros(sql):
    """Grafana's PostgreSQL macros as plain SQL over the last 6 hours."""
    def arg(m):
        return m.group(1).strip()
    s = sql
    s = re.sub(r"\$__timeFilter\(([^()]*)\)",
               lambda m: "(%s BETWEEN %s AND %s)" % (arg(m), MACRO_FROM, MACRO_TO), s)
    s = re.sub(r"\$__timeFrom\(\)", MACRO_FROM, s)
    s = re.sub(r"\$__timeTo\(\)", MACRO_TO, s)
    s = re.sub(r"\$__timeGroupAlias\(([^(),]*),[^()]*\)",
               lambda m: "date_trunc('minute', %s) AS time" % arg(m), s)
    s = re.sub(r"\$__timeGroup\(([^(),]*),[^()]*\)",
               lambda m: "date_trunc('minute', %s)" % arg(m), s)
    s = re.sub(r"\$__unixEpochFilter\(([^()]*)\)",
               lambda m: "(%s BETWEEN extract(epoch FROM %s) AND extract(epoch FROM %s))"
               % (arg(m), MACRO_FROM, MACRO_TO), s)
    return s


def check_dashboard_static(root):
    """Returns [(where, expanded sql)] of the queries, after the checks."""
    dpath = os.path.join(root, "deploy", "grafana", "dashboards", "hugetask.json")
    ppath = os.path.join(root, "deploy", "grafana", "provisioning", "datasources",
                         "hugetask.yml")
    with open(dpath) as f:
        dash = json.load(f)
    with open(ppath) as f:
        prov = yaml.safe_load(f)
    ds = prov["datasources"][0]
    if "postgres" not in ds.get("type", ""):
        fail("datasource provisioning: type %r is not PostgreSQL" % ds.get("type"))
    if ds.get("url", "").split(":")[0] != "db":
        fail("datasource provisioning: url %r is not the compose db" % ds.get("url"))
    views = sql_views(root)
    if not views:
        fail("no CREATE VIEW in sql/")
    queries = dashboard_queries(dash)
    if not queries:
        fail("dashboard: no queries")
    ids = [p.get("id") for p in dash.get("panels", [])]
    if len(ids) != len(set(ids)):
        fail("dashboard: panel ids are not unique: %s" % ids)
    out = []
    for where, sql, target, panel in queries:
        if not isinstance(sql, str) or not sql.strip():
            fail("dashboard: %s has no SQL" % where)
            continue
        dsref = target.get("datasource") or panel.get("datasource") or {}
        if dsref.get("uid") != ds.get("uid"):
            fail("dashboard: %s uses datasource %r, not the provisioned %r"
                 % (where, dsref, ds.get("uid")))
        if "targets" in panel and not target.get("rawQuery") and target.get("editorMode") != "code":
            fail("dashboard: %s is not a raw SQL query" % where)
        rels, funcs = relations(sql)
        if not rels:
            fail("dashboard: %s reads no relation" % where)
        for r in rels:
            if not r.startswith("ht_") or r not in views:
                fail("dashboard: %s reads %s, which is not an ht_* view of sql/"
                     % (where, r))
        for fn in funcs:
            fail("dashboard: %s reads the function %s() in FROM; panels read "
                 "only the ht_* views" % (where, fn))
        expanded = expand_macros(sql)
        left = re.findall(r"\$\{?\w+|\[\[\w+", strip_sql(expanded))
        if left:
            fail("dashboard: %s uses %s, which the test cannot turn into SQL"
                 % (where, left))
            continue
        out.append((where, expanded))
    # The relation scanner must see what it is meant to catch.
    for bad, want in (("SELECT count(*) FROM tasks", "tasks"),
                      ("SELECT * FROM ht_queue q JOIN tasks t ON true", "tasks"),
                      ("SELECT * FROM ht_queue, public.tasks", "tasks"),
                      ("SELECT extract(epoch FROM now()) FROM pg_stat_activity",
                       "pg_stat_activity")):
        if want not in relations(bad)[0]:
            fail("negative control: the relation scanner missed %s in %r" % (want, bad))
    if not FAILURES:
        note("ok: the %d dashboard queries read only %s" % (
            len(out), ", ".join(sorted({r for _, s in out for r in relations(s)[0]}))))
    return out


def psql_bin():
    exe = shutil.which("psql")
    if exe is None and os.path.exists("/usr/lib/postgresql/15/bin/psql"):
        exe = "/usr/lib/postgresql/15/bin/psql"
    return exe


def url_with_db(url, db):
    if url.startswith(("postgresql://", "postgres://")):
        u = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit(u._replace(path="/" + db))
    return "%s dbname=%s" % (url, db)


class TestDb:
    """A fresh database in HT_TEST_PGURL's server, migrated by the API
    binary, dropped (with the roles made for it) on close."""

    def __init__(self, admin_url, api_bin, tag):
        self.admin = admin_url
        self.psql = psql_bin()
        if self.psql is None:
            raise RuntimeError("psql not found (postgresql-client-15)")
        self.name = "ht_deploy_%s_%d" % (tag, os.getpid())
        self.roles = []
        self.url = url_with_db(admin_url, self.name)
        self.sql_admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)
        self.sql_admin("CREATE DATABASE %s" % self.name)
        p = run([api_bin, "--migrate", "--database-url", self.url])
        if p.returncode != 0:
            raise RuntimeError("hugetask-api --migrate failed (exit %d):\n%s%s"
                               % (p.returncode, p.stdout, p.stderr))

    def sql_admin(self, sql):
        p = run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.admin,
                 "-c", "SET client_min_messages = warning", "-c", sql])
        if p.returncode != 0:
            raise RuntimeError("psql %r failed: %s" % (sql, p.stderr))

    def close(self):
        try:
            self.sql_admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)
            for r in self.roles:
                self.sql_admin("DROP ROLE IF EXISTS %s" % r)
        except RuntimeError as e:
            note("cleanup: %s" % e)


def check_dashboard(root, api_bin):
    queries = check_dashboard_static(root)
    admin = os.environ.get("HT_TEST_PGURL")
    if not admin:
        note("HT_TEST_PGURL is not set: the dashboard's SQL was checked "
             "statically only, not run")
        return
    if FAILURES:
        return
    db = TestDb(admin, api_bin, "dash")
    try:
        reader = "ht_deploy_reader_%d" % os.getpid()
        db.roles.append(reader)
        grants = os.path.join(root, "deploy", "grafana", "grants.sql")
        p = run([db.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "reader=" + reader,
                 "-v", "reader_password=test-%d" % os.getpid(), "-f", grants,
                 "-d", db.url])
        if p.returncode != 0:
            fail("deploy/grafana/grants.sql failed: %s" % p.stderr)
            return
        # The role must not read the table behind the views.
        p = run([db.psql, "-X", "-q", "-d", db.url, "-c", "SET ROLE " + reader,
                 "-c", "SELECT count(*) FROM tasks"])
        if p.returncode == 0 or "permission denied" not in p.stderr:
            fail("the role of grants.sql can read the tasks table: %s%s"
                 % (p.stdout, p.stderr))
        for where, sql in queries:
            p = run([db.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                     "-d", db.url, "-c", "SET ROLE " + reader, "-c", sql])
            if p.returncode != 0:
                fail("dashboard: %s fails on PostgreSQL as the Grafana role:\n%s\n%s"
                     % (where, sql, p.stderr.strip()))
        if not FAILURES:
            note("ok: all %d dashboard queries run on a migrated database as "
                 "the role deploy/grafana/grants.sql makes" % len(queries))
    finally:
        db.close()


# ----------------------------------------------------------------- health

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setpgid(0, 0)


def spawn(argv, env, log):
    return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15 * timeout_mult())
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def healthcheck(root, args, env):
    script = os.path.join(root, "deploy", "docker", "healthcheck.sh")
    return run(["bash", script] + args, env=env)


def wait_healthy(root, args, env, what, proc):
    deadline = time.monotonic() + 30 * timeout_mult()
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail("%s exited (%s) before it was healthy" % (what, proc.returncode))
            return False
        last = healthcheck(root, args, env)
        if last.returncode == 0:
            return True
        time.sleep(0.2)
    fail("%s: hugetask-healthcheck %s did not pass within %.0f s: %s"
         % (what, " ".join(args), 30 * timeout_mult(), last.stderr if last else ""))
    return False


def check_health(root, api_bin, worker_bin):
    admin = os.environ.get("HT_TEST_PGURL")
    if not admin:
        note("HT_TEST_PGURL is not set: skipped")
        return SKIP
    db = TestDb(admin, api_bin, "health")
    procs = []
    tmp = tempfile.mkdtemp(prefix="ht-deploy-health-")
    ok = False
    try:
        http, pub, metrics = free_port(), free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUGETASK_")}
        env.update({"DATABASE_URL": db.url,
                    "HUGETASK_LISTEN": "0.0.0.0:%d" % http,
                    "HUGETASK_PUB": "tcp://127.0.0.1:%d" % pub,
                    "HUGETASK_SUBSCRIBE": "tcp://127.0.0.1:%d" % pub,
                    "HUGETASK_METRICS_LISTEN": "0.0.0.0:%d" % metrics,
                    "HUGETASK_WORKERS": "1", "HUGETASK_THREADS": "4"})
        api_log = open(os.path.join(tmp, "api.log"), "w")
        worker_log = open(os.path.join(tmp, "worker.log"), "w")
        api = spawn([api_bin], env, api_log)
        procs.append(api)
        worker = spawn([worker_bin], env, worker_log)
        procs.append(worker)
        # The container's commands: the address comes from the environment
        # (0.0.0.0 is checked on the loopback).
        if wait_healthy(root, ["api"], env, "hugetask-api", api):
            note("ok: hugetask-healthcheck api passes against a running hugetask-api")
        if wait_healthy(root, ["worker"], env, "hugetask-worker", worker):
            note("ok: hugetask-healthcheck worker passes against a running hugetask-worker")
        p = healthcheck(root, ["127.0.0.1:%d" % http, "/no-such-path"], env)
        if p.returncode == 0:
            fail("hugetask-healthcheck passed on a path that is not 200")
        stop(worker)
        stop(api)
        for args in (["api"], ["worker"]):
            p = healthcheck(root, args, env)
            if p.returncode == 0:
                fail("hugetask-healthcheck %s still passes after the daemon stopped"
                     % args[0])
        p = healthcheck(root, ["worker"], {k: v for k, v in env.items()
                                           if k != "HUGETASK_METRICS_LISTEN"})
        if p.returncode == 0:
            fail("hugetask-healthcheck worker passes without HUGETASK_METRICS_LISTEN")
        ok = not FAILURES
        if ok:
            note("ok: hugetask-healthcheck fails once the daemons are gone")
    finally:
        for p in procs:
            stop(p)
        if not ok:
            for name in ("api.log", "worker.log"):
                with open(os.path.join(tmp, name)) as f:
                    note("===== %s =====\n%s" % (name, f.read()[-8000:]))
        shutil.rmtree(tmp, ignore_errors=True)
        db.close()
    return 0


# ------------------------------------------------------------------- main

def main(argv):
    if len(argv) < 3:
        note(__doc__)
        return 2
    cmd, root = argv[1], os.path.realpath(argv[2])
    rest = argv[3:]
    rc = 0
    try:
        if cmd == "compose":
            check_compose(root, rest[0], rest[1])
        elif cmd == "dockerfile":
            check_dockerfile(root, os.path.realpath(rest[0]),
                             [os.path.realpath(b) for b in rest[1:]])
        elif cmd == "libs":
            check_libs(root, rest[0].upper() in ("ON", "1", "TRUE", "YES"), rest[1:])
        elif cmd == "dashboard":
            check_dashboard(root, rest[0])
        elif cmd == "health":
            rc = check_health(root, rest[0], rest[1])
        else:
            note("unknown check %r" % cmd)
            return 2
    except (RuntimeError, OSError, KeyError, ValueError, yaml.YAMLError) as e:
        fail("%s: %s" % (cmd, e))
    for path in _EMPTY_ENV:
        os.unlink(path)
    if FAILURES:
        note("%d check(s) failed" % len(FAILURES))
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
