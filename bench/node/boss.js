// bench/node/boss.js - pg-boss 10 as a baseline for ./bench/run.sh.
//
//   node boss.js drain   --url URL --jobs N --slots W --max-seconds S
//   node boss.js latency --url URL --jobs N --slots W --gap-ms G
//   node boss.js cancel  --url URL --jobs N --slots W
//
// W job slots are W calls of boss.work() on one queue, each with batchSize 1
// (pg-boss 10 has no other per-job concurrency setting) and the shortest
// polling interval pg-boss allows (0.5 s).  A pg-boss worker waits out the
// rest of its polling interval after every fetch, so its drain rate is bound
// by W / 0.5 s; the drain therefore stops after S seconds when the queue is
// not empty by then, and jobs/s counts the jobs completed, from the first
// started_on to the last completed_on of the rows (pg-boss keeps them).
// latency: one job at a time (send), waiting for the handler, then G ms plus
//   a random 0..0.5 s (so submissions land at random points of the polling
//   cycle); submit -> handler call, same process, monotonic clock.
// cancel: a job whose handler waits until released; once it runs,
//   boss.cancel() then getJobById() until the state reads cancelled.  pg-boss
//   only changes the row: the running handler is not told.
"use strict";

const PgBoss = require("pg-boss");
const C = require("./common");

// Each run starts from an empty pgboss schema (pg-boss recreates it on
// start), as graphile-worker's runs start from an empty queue.
async function freshSchema(url) {
  await C.withClient(url, (c) => c.query("DROP SCHEMA IF EXISTS pgboss CASCADE"));
}

async function startBoss(url, slots) {
  const boss = new PgBoss({ connectionString: url, max: slots + 3 });
  boss.on("error", (e) => console.error(`[pg-boss] ${e.message || e}`));
  await boss.start();
  return boss;
}

function queueName(what) {
  return `bench_${what}_${process.pid}_${Date.now()}`;
}

const WORK = { batchSize: 1, pollingIntervalSeconds: 0.5 };

async function drain(args) {
  const url = C.need(args, "url");
  const n = Number(C.need(args, "jobs"));
  const slots = Number(C.need(args, "slots"));
  const maxSeconds = Number(args["max-seconds"] || 20);
  await freshSchema(url);
  const boss = await startBoss(url, slots);
  const q = queueName("drain");
  await boss.createQueue(q);
  for (let done = 0; done < n; ) {
    const k = Math.min(1000, n - done);
    const jobs = [];
    for (let i = 0; i < k; i++) jobs.push({ name: q, data: {} });
    await boss.insert(jobs);
    done += k;
  }
  await C.checkpoint(url);

  const count = async () => C.withClient(url, async (c) =>
    Number((await c.query(
      "SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'", [q])).rows[0].n));
  for (let i = 0; i < slots; i++) await boss.work(q, WORK, async () => {});
  const t0 = C.nowMs();
  let finished = false;
  while (C.nowMs() - t0 < maxSeconds * 1000) {
    if ((await count()) >= n) { finished = true; break; }
    await C.sleep(100);
  }
  await boss.stop({ graceful: true, wait: true, timeout: 5000 });
  const r = await C.withClient(url, async (c) => (await c.query(
    "SELECT count(*) AS n, extract(epoch FROM max(completed_on) - min(started_on)) AS s " +
    "FROM pgboss.job WHERE name = $1 AND state = 'completed'", [q])).rows[0]);
  const jobs = Number(r.n);
  const seconds = r.s === null ? null : Number(r.s);
  C.report({
    system: "pg-boss", jobs, queued: n, finished, seconds,
    rate: seconds ? jobs / seconds : null,
  });
}

async function latency(args) {
  const url = C.need(args, "url");
  const n = Number(C.need(args, "jobs"));
  const slots = Number(C.need(args, "slots"));
  const gap = Number(args["gap-ms"] || 15);
  const warmup = Number(args.warmup || 2);
  await freshSchema(url);
  const boss = await startBoss(url, slots);
  const q = queueName("lat");
  await boss.createQueue(q);
  const started = new Map();
  let onStart = null;
  for (let i = 0; i < slots; i++) {
    await boss.work(q, WORK, async ([job]) => {
      started.set(job.data.i, C.nowMs());
      if (onStart) onStart();
    });
  }
  await C.sleep(600);
  const lat = [];
  let lost = 0;
  for (let i = 0; i < warmup + n; i++) {
    const seen = new Promise((resolve) => { onStart = resolve; });
    const t0 = C.nowMs();
    await boss.send(q, { i });
    const r = await Promise.race([seen, C.sleep(10000).then(() => "timeout")]);
    onStart = null;
    if (r === "timeout" || !started.has(i)) lost++;
    else if (i >= warmup) lat.push(started.get(i) - t0);
    // The W workers poll in step; a random extra wait spreads the next
    // submission uniformly over their polling interval, as arrivals are.
    await C.sleep(gap + Math.random() * WORK.pollingIntervalSeconds * 1000);
  }
  await boss.stop({ graceful: true, wait: true, timeout: 5000 });
  C.report({ system: "pg-boss", lost, ...C.latencySummary(lat) });
}

async function cancel(args) {
  const url = C.need(args, "url");
  const n = Number(C.need(args, "jobs"));
  const slots = Number(C.need(args, "slots"));
  await freshSchema(url);
  const boss = await startBoss(url, slots);
  const q = queueName("cancel");
  await boss.createQueue(q);
  const holds = new Map();
  for (let i = 0; i < slots; i++) {
    await boss.work(q, WORK, ([job]) => new Promise((resolve) => holds.set(job.id, resolve)));
  }
  await C.sleep(600);
  const lat = [];
  let lost = 0;
  for (let i = 0; i < n; i++) {
    const id = await boss.send(q, { i });
    if (!(await C.waitFor(() => holds.has(id), 10000, 1))) { lost++; continue; }
    const t0 = C.nowMs();
    await boss.cancel(q, id);
    const ok = await C.waitFor(async () => {
      const j = await boss.getJobById(q, id);
      return j && j.state === "cancelled";
    }, 10000, 0);
    const t1 = C.nowMs();
    holds.get(id)();
    if (ok) lat.push(t1 - t0); else lost++;
  }
  await boss.stop({ graceful: true, wait: true, timeout: 5000 });
  C.report({ system: "pg-boss", lost, ...C.latencySummary(lat) });
}

const args = C.parseArgs(process.argv.slice(2));
const cmd = args._[0];
({ drain, latency, cancel }[cmd] || (() => { console.error("usage: boss.js drain|latency|cancel ..."); process.exit(2); }))(args)
  .then(() => process.exit(0), C.die);
