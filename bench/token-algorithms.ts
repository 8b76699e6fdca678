/**
 * Shoppers' tokens benchmark (make bench): a purchase admitted with an HS256 token (the shared
 * secret) and with RS256 and ES256 tokens of the shop's identity provider (its JWKS served here,
 * fetched and published by the control plane's own refresher), each on first sight (every
 * request a token the worker has not seen: one signature check) and remembered (a thousand
 * shoppers over again, each of whom read GET /api/session first: a purchase adds no token to the
 * worker's memo, a read does; knob signature_memo_size). Each row runs in
 * interleaved pairs with its ceiling, one Redis INCR through the gateway's pool (same wrk
 * script, appendfsync everysec), as bench/gateway.ts does: the median of the per-pair ratios of
 * req/s and of the nginx worker's CPU per request, and their spread. Writes
 * bench/results/token-algorithms.json; uses its own Redis and database.
 *
 * BENCH_DURATION (seconds per run, default 3), BENCH_RUNS (pairs, default 3), BENCH_CONNECTIONS
 * (default 64), BENCH_NGINX_WORKERS (default 1). First-sight tokens are signed before the runs
 * (RS256 at about 1,400 a second on one core here), as many as BENCH_FIRST_SIGHT_TOKENS or by
 * default FIRST_SIGHT_TOKENS; a row that used them up is reported as an invalid run.
 */
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createLogger, Registry } from "@flash-sale/node-common";
import { JwksRefresher } from "../control-plane/src/auth/jwks-refresher";
import { LOAD_TEST_KNOBS, waitForSale, type Gateway } from "../tests/support/gateway";
import { purchase } from "../tests/support/http";
import { TestStack } from "../tests/support/test-stack";
import { b64url, signToken } from "../tests/support/tokens";
import { wrkSync } from "../tests/support/wrk";
import { progress, reportProblems, runBenchInScratch, spreadText, writeResults } from "./bench-run";
import { measureSide, pairFigures, type MeasuredSide, type PairFigures } from "./paired-rows";
import { benchUserId } from "./shopper-tokens";

const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WORKERS = process.env.BENCH_NGINX_WORKERS ?? "1";
const REMEMBERED_TOKENS = 1000;
const ISSUER = "https://idp.bench.example";
const AUDIENCE = "flash-sale";
const SALE = "bench-tokens";
const SCRIPT = ["-s", path.join(__dirname, "wrk/purchase.lua")];

type Alg = "HS256" | "RS256" | "ES256";
const ALGS: Alg[] = ["HS256", "RS256", "ES256"];
/** Above each row's requests in 3 runs of 3 s at one worker's rate with one signature check each. */
const FIRST_SIGHT_TOKENS: Record<Alg, number> = { HS256: 300_000, RS256: 100_000, ES256: 150_000 };
const firstSightTokens = (alg: Alg) => Number(process.env.BENCH_FIRST_SIGHT_TOKENS ?? FIRST_SIGHT_TOKENS[alg]);

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const KEYS: Record<Exclude<Alg, "HS256">, { kid: string; privateKey: KeyObject; publicKey: KeyObject }> = {
  RS256: { kid: "bench-rs", ...rsa },
  ES256: { kid: "bench-es", ...ec },
};

/** Tokens of one width (the wrk script slices the file by offset): same-width ids, one exp. */
function writeTokens(dir: string, alg: Alg, prefix: string, count: number): string {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const sub = benchUserId(prefix, i);
    if (alg === "HS256") {
      lines.push(signToken(sub, { expiresInSec: 3600 }));
      continue;
    }
    const { kid, privateKey } = KEYS[alg];
    const signed = `${b64url(JSON.stringify({ alg, typ: "JWT", kid }))}.${b64url(JSON.stringify({ sub, exp, iss: ISSUER, aud: AUDIENCE }))}`;
    const sig = sign("sha256", Buffer.from(signed), alg === "ES256" ? { key: privateKey, dsaEncoding: "ieee-p1363" } : privateKey);
    lines.push(`${signed}.${sig.toString("base64url")}`);
  }
  const file = path.join(dir, `${prefix}.tokens`);
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

/** Serves the provider's JWKS and has the control plane's refresher publish it once. */
async function publishKeySet(stack: TestStack): Promise<void> {
  const keys = Object.values(KEYS).map(({ kid, publicKey }) => ({ ...publicKey.export({ format: "jwk" }), kid, use: "sig" }));
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys })));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const settings = { url, issuer: ISSUER, audience: AUDIENCE, leewaySeconds: 0, refreshSeconds: 60, minRefreshSeconds: 1 };
    await new JwksRefresher(stack.redis, settings, createLogger("bench-tokens", "warn"), new Registry()).refresh();
  } finally {
    await new Promise((r) => server.close(r));
  }
}

type Row = { alg: Alg; seen: "first sight" | "remembered" } & PairFigures;

async function main(tmp: string): Promise<void> {
  progress(`nginx workers ${WORKERS}, wrk 1 thread × ${CONNECTIONS} connections, ${RUNS} pairs × ${DURATION} s per row`);
  const knobs = { ...LOAD_TEST_KNOBS, worker_processes: WORKERS, access_log: "off" };
  const stack = await TestStack.start({ name: "bench_tokens", knobs, benchListen: true, persistentRedis: true, appendfsync: "everysec" });
  const { redis, controlPlane, gateway } = stack;
  await redis.config("SET", "auto-aof-rewrite-percentage", "0");
  try {
    const limits = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };
    await controlPlane.createSale({ id: SALE, stock: 50_000_000, perUserLimit: 1_000_000, limits });
    await waitForSale(gateway, SALE);
    await publishKeySet(stack);
    progress(`signing first-sight tokens (${ALGS.map((alg) => `${alg} ${firstSightTokens(alg)}`).join(", ")}) and ${REMEMBERED_TOKENS} remembered ones per algorithm`);
    const files = Object.fromEntries(ALGS.map((alg) => [alg, {
      first: writeTokens(tmp, alg, `${alg.toLowerCase()}-first`, firstSightTokens(alg)),
      remembered: writeTokens(tmp, alg, `${alg.toLowerCase()}-again`, REMEMBERED_TOKENS),
    }])) as Record<Alg, { first: string; remembered: string }>;
    // Every worker has synced the set (each second); then one of each must be admitted.
    await new Promise((r) => setTimeout(r, 1500));
    const problems: string[] = [];
    for (const alg of ALGS) {
      const probe = readFileSync(writeTokens(tmp, alg, `${alg.toLowerCase()}-probe`, 1), "utf8").trim();
      const { status } = await purchase(gateway.url, SALE, probe);
      if (status !== 202) problems.push(`a ${alg} token was answered ${status}, not 202`);
    }

    const ceilingUrl = `http://127.0.0.1:${gateway.benchPort}/ceiling/redis-incr`;
    const rowUrl = `${gateway.url}/api/sales/${SALE}/purchase`;
    const runSide = (g: Gateway, url: string, tokens: string, offset: number): MeasuredSide =>
      measureSide(g, () => wrkSync({ url, threads: 1, connections: CONNECTIONS, seconds: DURATION, args: SCRIPT, env: { BENCH_TOKENS: tokens, BENCH_THREADS: "1", BENCH_TOKEN_OFFSET: String(offset) } }));
    // The remembered shoppers read their session first, as a shopper on the sale's page does; a
    // worker remembers what it read, so each token is read on fresh connections, several per worker.
    const readSessions = async (file: string): Promise<void> => {
      for (const token of readFileSync(file, "utf8").trim().split("\n")) {
        for (let i = 0; i < 3 * Number(WORKERS); i++) {
          const res = await fetch(`${gateway.url}/api/session`, { headers: { authorization: `Bearer ${token}`, connection: "close" } });
          if (((await res.json()) as { loggedIn?: boolean }).loggedIn !== true) throw new Error(`GET /api/session did not take a remembered shopper's token (${res.status})`);
        }
      }
    };
    const rows: Row[] = [];
    for (const alg of ALGS) {
      for (const seen of ["first sight", "remembered"] as const) {
        progress(`pairs: ${alg} ${seen} against one Redis INCR`);
        const tokens = seen === "first sight" ? files[alg].first : files[alg].remembered;
        if (seen === "remembered") await readSessions(tokens);
        let offset = 0;
        runSide(gateway, ceilingUrl, tokens, 0); // warm-up
        const pairs = Array.from({ length: RUNS }, () => {
          const ceiling = runSide(gateway, ceilingUrl, tokens, 0);
          const row = runSide(gateway, rowUrl, tokens, offset);
          offset += row.requests + CONNECTIONS;
          return { ceiling, row };
        });
        if (seen === "first sight" && offset > firstSightTokens(alg)) problems.push(`${alg} first sight used ${offset} tokens of ${firstSightTokens(alg)}: some were seen twice (raise BENCH_FIRST_SIGHT_TOKENS)`);
        const row: Row = { alg, seen, ...pairFigures(pairs) };
        if (row.rowNon2xx > 0) problems.push(`${alg} ${seen}: ${row.rowNon2xx} purchases were refused`);
        rows.push(row);
      }
    }

    console.log("");
    console.log(`Purchase admitted by token algorithm, one nginx worker, appendfsync everysec; ${RUNS} interleaved pairs of ${DURATION} s (one Redis INCR, row):`);
    console.log("| token | row req/s | ceiling req/s | ratio (median of pairs) | spread | row p99 ms | nginx CPU µs per request, row / ceiling | ratio by CPU | spread |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(`| ${r.alg}, ${r.seen} | ${r.rowRps.toFixed(0)} | ${r.ceilingRps.toFixed(0)} | ${r.ratio.toFixed(2)} | ${spreadText(r.spreadPct)} | ${r.rowP99Ms.toFixed(2)} | ${r.rowCpuUs.toFixed(1)} / ${r.ceilingCpuUs.toFixed(1)} | ${r.cpuRatio.toFixed(2)} | ${spreadText(r.cpuSpreadPct)} |`);
    }
    console.log("(first sight: each request a token the worker has not seen, one signature check; remembered: a thousand shoppers over again who read their session first, the worker's memo)");
    console.log("");
    writeResults("token-algorithms", { nginxWorkers: WORKERS, wrk: { threads: 1, connections: CONNECTIONS, durationSec: DURATION, runs: RUNS }, firstSightTokens: Object.fromEntries(ALGS.map((alg) => [alg, firstSightTokens(alg)])), rows, problems });
    reportProblems(problems);
  } finally {
    await stack.stop();
  }
}

runBenchInScratch("fs-bench-tokens-", main);
