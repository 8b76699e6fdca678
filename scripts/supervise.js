#!/usr/bin/env node
/*
 * Runs one service and restarts it when it dies: `make up` runs the control plane and the order
 * worker under it (scripts/services.sh).
 *
 *   node scripts/supervise.js --name NAME --log FILE --child-pid-file FILE -- COMMAND [ARGS...]
 *
 * - An abnormal exit (a signal, or a code other than 0) restarts the service after a delay that
 *   doubles from FS_SUPERVISOR_BACKOFF_MIN_MS (500) up to FS_SUPERVISOR_BACKOFF_MAX_MS (4000),
 *   back to the minimum once a run lasted FS_SUPERVISOR_STABLE_MS (10000). A few seconds at
 *   most: while no control plane runs, unpaid reservations past their payment timeout keep their
 *   units (shoppers are told sold out) and lost Redis state is not rebuilt.
 * - The service gets FS_RESTART_COUNT (restarts so far) and exports it as
 *   fs_process_restarts_total (node-common/src/metrics.ts).
 * - SIGTERM/SIGINT: forwarded to the service, which shuts down gracefully; SIGKILL after
 *   FS_SUPERVISOR_STOP_GRACE_MS (20000, inside scripts/down.sh's 30 s). Never restarted after.
 * - Exit 0 of the service on its own (someone stopped it): not restarted; the supervisor exits.
 * Its own lines go to the service's log, among the service's JSON lines, in plain words.
 */
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");

function parseArgs(argv) {
  const sep = argv.indexOf("--");
  const opts = {};
  const flags = sep === -1 ? argv : argv.slice(0, sep);
  for (let i = 0; i + 1 < flags.length; i += 2) opts[flags[i].replace(/^--/, "")] = flags[i + 1];
  const command = sep === -1 ? [] : argv.slice(sep + 1);
  if (!opts.name || !opts.log || !opts["child-pid-file"] || command.length === 0) {
    process.stderr.write("usage: supervise.js --name NAME --log FILE --child-pid-file FILE -- COMMAND [ARGS...]\n");
    process.exit(2);
  }
  return { name: opts.name, log: opts.log, childPidFile: opts["child-pid-file"], command };
}

function msEnv(name, fallback) {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`${name} must be a number of ms, got '${process.env[name]}'\n`);
    process.exit(2);
  }
  return n;
}

const { name, log, childPidFile, command } = parseArgs(process.argv.slice(2));
const BACKOFF_MIN_MS = msEnv("FS_SUPERVISOR_BACKOFF_MIN_MS", 500);
const BACKOFF_MAX_MS = msEnv("FS_SUPERVISOR_BACKOFF_MAX_MS", 4_000);
const STABLE_MS = msEnv("FS_SUPERVISOR_STABLE_MS", 10_000);
const STOP_GRACE_MS = msEnv("FS_SUPERVISOR_STOP_GRACE_MS", 20_000);

const logFd = fs.openSync(log, "a");
const say = (text) => fs.writeSync(logFd, `${new Date().toISOString()} supervise ${name}: ${text}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

let child;
let restarts = 0;
/** Abnormal exits in a row, each run shorter than STABLE_MS: the exponent of the delay. */
let streak = 0;
let restartTimer;
let stopping = false;

function start() {
  restartTimer = undefined;
  const startedAt = Date.now();
  const [file, ...args] = command;
  const proc = spawn(file, args, {
    stdio: ["ignore", logFd, logFd],
    env: { ...process.env, FS_RESTART_COUNT: String(restarts) },
  });
  child = proc;
  // 'error' (could not start) and 'exit' may both come: handle the first only.
  let ended = false;
  const onEnd = (end) => {
    if (ended) return;
    ended = true;
    child = undefined;
    fs.rmSync(childPidFile, { force: true });
    exited(proc.pid, end, Date.now() - startedAt);
  };
  proc.once("error", (err) => onEnd({ how: `could not start (${err.message})`, clean: false }));
  proc.once("exit", (code, signal) =>
    onEnd({ how: signal ? `killed by ${signal}` : `exited with code ${code}`, clean: code === 0 }),
  );
  if (proc.pid !== undefined) {
    fs.writeFileSync(childPidFile, `${proc.pid}\n`);
    say(`started pid ${proc.pid} (restarts so far: ${restarts})`);
  }
}

function exited(pid, { how, clean }, ranMs) {
  const what = `pid ${pid ?? "-"} ${how} after ${seconds(ranMs)}`;
  if (stopping) {
    say(`${what}; stopped as asked`);
    process.exit(clean ? 0 : 1);
  }
  if (clean) {
    say(`${what}, on its own; not restarting`);
    process.exit(0);
  }
  if (ranMs >= STABLE_MS) streak = 0;
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** streak);
  streak++;
  restarts++;
  say(`${what}; restart ${restarts} in ${seconds(delay)}`);
  restartTimer = setTimeout(start, delay);
}

function stop(signal) {
  if (stopping) return;
  stopping = true;
  if (child === undefined) {
    clearTimeout(restartTimer);
    say(`${signal} received while waiting to restart; stopped`);
    process.exit(0);
  }
  say(`${signal} received; stopping pid ${child.pid}`);
  child.kill(signal);
  setTimeout(() => {
    if (child === undefined) return;
    say(`pid ${child.pid} still runs after ${seconds(STOP_GRACE_MS)}; killing it`);
    child.kill("SIGKILL");
  }, STOP_GRACE_MS).unref();
}

process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
start();
