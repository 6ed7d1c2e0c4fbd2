// bench/node/common.js - small helpers shared by the baseline drivers.
//
// Every driver prints exactly one line on stdout, "BENCHJSON {...}", which
// bench/bench.py reads; anything else goes to stderr.
"use strict";

const { Client } = require("pg");

// Milliseconds from a monotonic clock, with sub-millisecond resolution.
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Nearest-rank percentile of an unsorted array of numbers.
function percentile(values, q) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const k = Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1));
  return s[k];
}

function latencySummary(values) {
  return {
    n: values.length,
    p50_ms: percentile(values, 50),
    p99_ms: percentile(values, 99),
    max_ms: values.length ? Math.max(...values) : null,
  };
}

function report(obj) {
  process.stdout.write("BENCHJSON " + JSON.stringify(obj) + "\n");
}

// Parses "--key value" pairs into an object of strings.
function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      out[a.slice(2)] = argv[i + 1];
      i++;
    } else {
      out._.push(a);
    }
  }
  return out;
}

function need(args, key) {
  if (args[key] === undefined) {
    console.error(`missing --${key}`);
    process.exit(2);
  }
  return args[key];
}

async function withClient(url, fn) {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// Sends the checkpoint every timed run starts after, so that no run pays
// for the previous run's dirty pages more than another.
async function checkpoint(url) {
  await withClient(url, (c) => c.query("CHECKPOINT"));
}

// Waits for cond() to be true, polling every `every` ms, at most `limit` ms.
async function waitFor(cond, limit, every = 1) {
  const end = nowMs() + limit;
  while (!(await cond())) {
    if (nowMs() > end) return false;
    await sleep(every);
  }
  return true;
}

function die(err) {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
}

module.exports = {
  nowMs, sleep, percentile, latencySummary, report, parseArgs, need,
  withClient, checkpoint, waitFor, die,
};
