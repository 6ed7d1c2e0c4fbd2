// bench/node/gw.js - graphile-worker 0.17 as a baseline for ./bench/run.sh.
//
//   node gw.js drain   --url URL --jobs N --slots W --mode default|batched
//   node gw.js latency --url URL --jobs N --slots W --mode default|batched --gap-ms G
//
// drain: queues N jobs of a no-op task (not timed), then runs the worker
//   once (runOnce) with W concurrent job slots until the queue is empty;
//   jobs/s is counted from the first task call to runOnce's return (every
//   completion written back by then).
// latency: starts a continuous worker with W slots, then adds N jobs one at a
//   time (addJob), each after the previous one was written back as complete
//   plus G ms; the figure is the time from just before addJob to the task
//   function being called (same process, monotonic clock).
//
// "default" is graphile-worker's out-of-the-box behaviour (one job fetched
// and one completion written per round trip); "batched" turns on its local
// queue and batched completions the way its performance docs run it
// (localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0).
"use strict";

const { run, runOnce, runMigrations, makeWorkerUtils, Logger } = require("graphile-worker");
const C = require("./common");

const quietLogger = new Logger(() => (level, message) => {
  if (level === "error") console.error(`[graphile-worker] ${message}`);
});

function workerPreset(url, slots, mode) {
  const worker = {
    connectionString: url,
    concurrentJobs: slots,
    maxPoolSize: slots + 1,
  };
  if (mode === "batched") {
    worker.localQueue = { size: 500 };
    worker.completeJobBatchDelay = 0;
    worker.failJobBatchDelay = 0;
  } else if (mode !== "default") {
    throw new Error(`unknown mode ${mode}`);
  }
  return { worker };
}

async function pending(url) {
  return C.withClient(url, async (c) =>
    Number((await c.query("SELECT count(*) AS n FROM graphile_worker.jobs")).rows[0].n));
}

async function drain(args) {
  const url = C.need(args, "url");
  const n = Number(C.need(args, "jobs"));
  const slots = Number(C.need(args, "slots"));
  const mode = args.mode || "default";

  await runMigrations({ connectionString: url, logger: quietLogger });
  if ((await pending(url)) !== 0) {
    await C.withClient(url, (c) => c.query("DELETE FROM graphile_worker._private_jobs"));
  }
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietLogger });
  try {
    for (let done = 0; done < n; ) {
      const k = Math.min(2000, n - done);
      const specs = [];
      for (let i = 0; i < k; i++) specs.push({ identifier: "noop", payload: {} });
      await utils.addJobs(specs);
      done += k;
    }
  } finally {
    await utils.release();
  }
  await C.checkpoint(url);

  let first = null;
  let calls = 0;
  const taskList = {
    noop: async () => {
      if (first === null) first = C.nowMs();
      calls++;
    },
  };
  await runOnce({
    preset: workerPreset(url, slots, mode),
    taskList,
    noHandleSignals: true,
    logger: quietLogger,
  });
  const end = C.nowMs();
  const left = await pending(url);
  const seconds = first === null ? null : (end - first) / 1000;
  C.report({
    system: `graphile-worker ${mode}`, jobs: calls, left, seconds,
    rate: seconds ? (calls - left) / seconds : null,
  });
}

async function latency(args) {
  const url = C.need(args, "url");
  const n = Number(C.need(args, "jobs"));
  const slots = Number(C.need(args, "slots"));
  const mode = args.mode || "default";
  const gap = Number(args["gap-ms"] || 15);
  const warmup = Number(args.warmup || 5);

  await runMigrations({ connectionString: url, logger: quietLogger });
  const started = new Map();
  let onStart = null;
  let onComplete = null;
  const taskList = {
    lat: async (payload) => {
      started.set(payload.i, C.nowMs());
      if (onStart) onStart();
    },
  };
  const runner = await run({
    preset: workerPreset(url, slots, mode),
    taskList,
    noHandleSignals: true,
    logger: quietLogger,
  });
  runner.events.on("job:complete", () => {
    if (onComplete) onComplete();
  });
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietLogger });
  await C.sleep(500);

  const lat = [];
  let lost = 0;
  try {
    for (let i = 0; i < warmup + n; i++) {
      const completed = new Promise((resolve) => { onComplete = resolve; });
      const timeout = C.sleep(10000).then(() => "timeout");
      const t0 = C.nowMs();
      await utils.addJob("lat", { i });
      const r = await Promise.race([completed, timeout]);
      onComplete = null;
      if (r === "timeout" || !started.has(i)) {
        lost++;
      } else if (i >= warmup) {
        lat.push(started.get(i) - t0);
      }
      await C.sleep(gap);
    }
  } finally {
    await utils.release();
    await runner.stop();
  }
  C.report({ system: `graphile-worker ${mode}`, lost, ...C.latencySummary(lat) });
}

const args = C.parseArgs(process.argv.slice(2));
const cmd = args._[0];
({ drain, latency }[cmd] || (() => { console.error(`usage: gw.js drain|latency ...`); process.exit(2); }))(args)
  .then(() => process.exit(0), C.die);
