/**
 * Overload benchmark (make bench): the gateway with the knobs as shipped (one nginx worker),
 * driven open-loop — requests sent on a fixed schedule whatever the answers, over thousands of
 * keep-alive connections, each request from its own shopper and client address — first at
 * the rate it answers closed-loop (measured here with wrk), then at BENCH_OVERLOAD (3) times
 * that, then at half of it again. Each phase reports answered rate, p50/p99 from the moment a
 * request was due (so queueing counts), answers by status and error code, and requests with no
 * answer within BENCH_ANSWER_TIMEOUT_MS: resets, nginx's own 5xx pages, and unanswered
 * requests are failures. The sale's stock (1.5 phases' worth at the closed-loop rate, unless
 * BENCH_STOCK) runs out during the overload: counted at the end (units left, orders, rows,
 * distinct buyers against the 202s seen). Own Redis and database.
 *
 * BENCH_OVERLOAD (default 3), BENCH_PHASE_SECONDS (default 10), BENCH_SOCKETS (default 2000),
 * BENCH_ANSWER_TIMEOUT_MS (default 10000), BENCH_STOCK.
 */
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { saleKeys } from "@flash-sale/contract/keys";
import { waitForSale } from "../tests/support/gateway";
import { TestStack } from "../tests/support/test-stack";
import { countSale, waitForRows } from "../tests/support/counts";
import { signToken } from "../tests/support/tokens";
import { wrkSync } from "../tests/support/wrk";
import { progress, reportProblems, runBenchInScratch, writeResults } from "./bench-run";
import { writeShopperTokens } from "./shopper-tokens";

const OVERLOAD = Number(process.env.BENCH_OVERLOAD ?? 3);
const PHASE_SECONDS = Number(process.env.BENCH_PHASE_SECONDS ?? 10);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2000);
const ANSWER_TIMEOUT_MS = Number(process.env.BENCH_ANSWER_TIMEOUT_MS ?? 10_000);
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };


interface Phase {
  name: string;
  ratePerSec: number;
  sent: number;
  answered: number;
  unanswered: number;
  resets: number;
  latenciesMs: number[];
  /** "202", "410 sold_out", "503 unavailable", "500 <html>" … */
  kinds: Map<string, number>;
  /** Answers refused without Retry-After where one is due (429, 503). */
  missingRetryAfter: number;
}

/** One keep-alive connection: requests written in order, answers read in order (HTTP/1.1 pipelining). */
class Connection {
  private readonly socket: net.Socket;
  private buffer = "";
  private readonly waiting: { dueAt: number; phase: Phase }[] = [];
  closed = false;

  constructor(port: number, private readonly onAnswer: (due: { dueAt: number; phase: Phase }, head: string, body: string) => void) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setNoDelay(true);
    this.socket.setEncoding("latin1");
    this.socket.on("data", (chunk: string) => this.read(chunk));
    this.socket.on("error", () => undefined);
    this.socket.on("close", () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w.phase.resets++;
    });
  }

  send(request: string, phase: Phase, dueAt: number): void {
    this.waiting.push({ dueAt, phase });
    this.socket.write(request);
  }

  get backlog(): number {
    return this.waiting.length;
  }

  /** Requests waiting longer than the timeout: counted as unanswered, and the connection dropped. */
  expire(now: number): void {
    if (this.waiting.length > 0 && now - this.waiting[0]!.dueAt > ANSWER_TIMEOUT_MS) {
      for (const w of this.waiting.splice(0)) w.phase.unanswered++;
      this.socket.destroy();
    }
  }

  end(): void {
    this.socket.destroy();
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const headEnd = this.buffer.indexOf("\r\n\r\n");
      if (headEnd < 0) return;
      const head = this.buffer.slice(0, headEnd);
      const framed = /\r\ntransfer-encoding: *chunked/i.test(head)
        ? chunkedBody(this.buffer, headEnd + 4)
        : fixedBody(this.buffer, headEnd + 4, Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0));
      if (framed === undefined) return;
      this.buffer = this.buffer.slice(framed.end);
      const body = framed.body;
      const due = this.waiting.shift();
      if (due !== undefined) this.onAnswer(due, head, body);
    }
  }
}

function fixedBody(buffer: string, from: number, length: number): { body: string; end: number } | undefined {
  return buffer.length < from + length ? undefined : { body: buffer.slice(from, from + length), end: from + length };
}

/** A chunked body, or undefined while it has not all arrived. */
function chunkedBody(buffer: string, from: number): { body: string; end: number } | undefined {
  let body = "";
  let at = from;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buffer.slice(at, lineEnd), 16);
    if (buffer.length < lineEnd + 2 + size + 2) return undefined;
    if (size === 0) return { body, end: lineEnd + 4 };
    body += buffer.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

function kindOf(head: string, body: string): string {
  const status = head.slice(9, 12);
  if (status === "202") return "202";
  const code = /"error": *"([a-z_]+)"/.exec(body)?.[1];
  // The purchase reached Redis and its answer came too late: it may have been taken.
  if (code === "unavailable" && body.includes("may have been taken")) return `${status} ${code} (may have been taken)`;
  return `${status} ${code ?? "<not the catalogue's JSON>"}`;
}

function newPhase(name: string, ratePerSec: number): Phase {
  return { name, ratePerSec, sent: 0, answered: 0, unanswered: 0, resets: 0, latenciesMs: [], kinds: new Map(), missingRetryAfter: 0 };
}

/** Sends `rate` requests per second for `seconds`, on schedule, round robin over the open connections. */
async function drive(phase: Phase, seconds: number, connections: Connection[], nextRequest: () => string): Promise<void> {
  const start = performance.now();
  const total = Math.round(phase.ratePerSec * seconds);
  let next = 0;
  let turn = 0;
  while (next < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * phase.ratePerSec));
    for (; next < due; next++) {
      let c = connections[turn++ % connections.length]!;
      for (let tries = 0; c.closed && tries < connections.length; tries++) c = connections[turn++ % connections.length]!;
      c.send(nextRequest(), phase, start + (next / phase.ratePerSec) * 1000);
      phase.sent++;
    }
    for (const c of connections) c.expire(now);
    await new Promise((r) => setImmediate(r));
  }
}

async function main(tmp: string): Promise<void> {
  const stack = await TestStack.start({ name: "bench_overload", knobs: { worker_processes: "1" }, persistentRedis: true, worker: { batchSize: 1000 } });
  const { redis, controlPlane, gateway, db } = stack;
  const problems: string[] = [];
  const phases: Phase[] = [];
  try {
    // What it answers closed-loop, on a sale that does not run out.
    const probe = await controlPlane.createSale({ id: "overload-probe", stock: 50_000_000, limits: WIDE_LIMITS });
    await waitForSale(gateway, probe.id);
    const probeTokens = writeShopperTokens(tmp, "probe", 300_000);
    const closed = wrkSync({
      url: `${gateway.url}/api/sales/${probe.id}/purchase`,
      threads: 1,
      connections: 64,
      seconds: 5,
      args: ["-s", path.join(__dirname, "wrk/purchase.lua")],
      env: { BENCH_TOKENS: probeTokens, BENCH_XFF: "1" },
    });
    const capacity = closed.requestsPerSec;
    const stock = Number(process.env.BENCH_STOCK ?? Math.round(capacity * PHASE_SECONDS * 1.5));
    const sale = await controlPlane.createSale({ id: "overload", stock, limits: WIDE_LIMITS });
    await waitForSale(gateway, sale.id);
    progress(`closed-loop (wrk, 64 connections): ${capacity.toFixed(0)} admitted purchases/s; driving open-loop at 1×, ${OVERLOAD}×, 0.5× over ${SOCKETS} connections, ${stock} units`);

    let shopper = 0;
    const host = `127.0.0.1:${gateway.port}`;
    const body = '{"quantity":1}';
    const nextRequest = (): string => {
      const n = shopper++;
      return `POST /api/sales/${sale.id}/purchase HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${signToken(`overload-${n}`, { expiresInSec: 3600 })}\r\n`
        + `X-Forwarded-For: 10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    };
    const onAnswer = (due: { dueAt: number; phase: Phase }, head: string, answer: string) => {
      const p = due.phase;
      p.answered++;
      p.latenciesMs.push(performance.now() - due.dueAt);
      const kind = kindOf(head, answer);
      p.kinds.set(kind, (p.kinds.get(kind) ?? 0) + 1);
      if ((kind.startsWith("429") || kind.startsWith("503")) && !/\r\nretry-after: *\d+/i.test(head)) p.missingRetryAfter++;
    };
    const connections = Array.from({ length: SOCKETS }, () => new Connection(gateway.port, onAnswer));
    await new Promise((r) => setTimeout(r, 500));

    for (const [name, factor] of [["1× capacity", 1], [`${OVERLOAD}× capacity`, OVERLOAD], ["0.5× capacity (recovery)", 0.5]] as const) {
      const phase = newPhase(name, capacity * factor);
      phases.push(phase);
      progress(`phase: ${name} = ${phase.ratePerSec.toFixed(0)} req/s for ${PHASE_SECONDS} s`);
      await drive(phase, PHASE_SECONDS, connections, nextRequest);
    }
    // The last answers.
    const deadline = performance.now() + ANSWER_TIMEOUT_MS;
    while (connections.some((c) => c.backlog > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const c of connections) c.expire(performance.now() + ANSWER_TIMEOUT_MS + 1);
    for (const c of connections) c.end();

    const accepted = phases.reduce((a, p) => a + (p.kinds.get("202") ?? 0), 0);
    await waitForRows(db.pool, sale.id, accepted, 120_000);
    const count = await countSale(redis, db.pool, sale.id);
    const left = Number(await redis.get(saleKeys(sale.id).stock));
    if (count.unitsSold > stock || left < 0) problems.push(`oversell: ${count.unitsSold} sold of ${stock}`);
    if (count.pgRows !== count.unitsSold || count.pgDistinctUsers !== count.pgRows || count.redisOrders !== count.unitsSold) {
      problems.push(`the sale does not count: ${JSON.stringify(count)}`);
    }
    const maybe = phases.reduce((a, p) => a + (p.kinds.get("503 unavailable (may have been taken)") ?? 0), 0);
    if (count.unitsSold < accepted || count.unitsSold > accepted + maybe) {
      problems.push(`${accepted} 202s seen (and ${maybe} told their order may have been taken), ${count.unitsSold} units sold`);
    }
    console.log(`count: ${JSON.stringify(count)}`);

    console.log("");
    console.log("| phase | sent req/s | answered | p50 ms | p99 ms | unanswered | resets | answers |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---|");
    for (const p of phases) {
      const sorted = [...p.latenciesMs].sort((a, b) => a - b);
      const q = (f: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]!);
      const kinds = [...p.kinds.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join(", ");
      console.log(`| ${p.name} | ${p.ratePerSec.toFixed(0)} | ${p.answered} of ${p.sent} | ${q(0.5).toFixed(1)} | ${q(0.99).toFixed(1)} | ${p.unanswered} | ${p.resets} | ${kinds} |`);
      if (p.unanswered > 0 || p.resets > 0) problems.push(`${p.name}: ${p.unanswered} unanswered, ${p.resets} reset`);
      if (p.missingRetryAfter > 0) problems.push(`${p.name}: ${p.missingRetryAfter} refusals without Retry-After`);
      for (const k of p.kinds.keys()) if (k.endsWith("<not the catalogue's JSON>")) problems.push(`${p.name}: answers outside the catalogue (${k})`);
    }
    console.log(`(${OVERLOAD}× the ${capacity.toFixed(0)} req/s answered closed-loop; latency from when each request was due; ${os.cpus().length} cores shared by this driver, nginx, Redis, the worker and Postgres)`);
    writeResults("overload", {
      closedLoopRequestsPerSec: capacity,
      phases: phases.map((p) => ({ ...p, latenciesMs: undefined, kinds: Object.fromEntries(p.kinds) })),
      count,
      problems,
    });
    reportProblems(problems);
  } finally {
    await stack.stop();
  }
}

runBenchInScratch("fs-bench-overload-", main);
