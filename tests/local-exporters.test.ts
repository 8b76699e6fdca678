/**
 * The local stack's exporters (scripts/exporters.sh, run by `make up`): Debian's Redis and
 * Postgres exporters under scripts/supervise.js, on the ports of the env file, against a private
 * Redis (with a password) and a private Postgres. Each answers /metrics with redis_up / pg_up 1,
 * 0 once its server is down; no password shows on a command line; `make down` stops them.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./support/ports";
import { PrivatePostgres } from "./support/private-postgres";
import { PrivateRedis } from "./support/private-redis";
import { REPO_ROOT, waitFor } from "./support/stream-fixtures";

jest.setTimeout(90_000);

const run = promisify(execFile);
const PASSWORD = "exporter-test-password-1234";

let redis: PrivateRedis;
let pg: PrivatePostgres;
let root: string;

beforeAll(async () => {
  [redis, pg] = await Promise.all([PrivateRedis.start(), PrivatePostgres.start()]);
  await run("redis-cli", ["-p", String(redis.port), "CONFIG", "SET", "requirepass", PASSWORD]);
  // A root of its own: the scripts act on the .run and .env.local beside them, never this checkout's stack.
  root = mkdtempSync(path.join(tmpdir(), "fs-exporters-"));
  mkdirSync(path.join(root, "scripts"));
  for (const f of ["lib.sh", "exporters.sh", "supervise.js", "down.sh"]) copyFileSync(path.join(REPO_ROOT, "scripts", f), path.join(root, "scripts", f));
});

afterAll(async () => {
  await run("bash", [path.join(root, "scripts/down.sh")]).catch(() => undefined);
  await Promise.all([redis.destroy(), pg.destroy()]);
  rmSync(root, { recursive: true, force: true });
});

/** The sample of `name` (with a label among its labels, when given) at the exporter on `port`. */
async function metric(port: number, name: string, label?: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
  if (res === undefined || !res.ok) return undefined;
  const line = (await res.text())
    .split("\n")
    .find((l) => (label === undefined ? l.startsWith(`${name} `) : l.startsWith(`${name}{`) && l.includes(label)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

const pidOf = (name: string) => Number(readFileSync(path.join(root, ".run", `${name}.child.pid`), "utf8"));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("make up's exporters answer redis_up and pg_up 1 against the real servers, 0 once they are down, and make down stops them", async () => {
  const [redisPort, pgPort] = [await freePort(), await freePort()];
  writeFileSync(
    path.join(root, ".env.local"),
    [
      `FS_REDIS_URL=redis://:${PASSWORD}@127.0.0.1:${redis.port}/0`,
      // As scripts/env.sh writes it: no sslmode (the exporter's driver would demand TLS).
      `FS_DATABASE_URL=${pg.url()}`,
      `FS_REDIS_EXPORTER_PORT=${redisPort}`,
      `FS_POSTGRES_EXPORTER_PORT=${pgPort}`,
      "",
    ].join("\n"),
  );
  const started = await run("bash", [path.join(root, "scripts/exporters.sh")]);
  expect(started.stdout).toContain("Starting redis-exporter, supervised");
  expect(started.stdout).toContain("Starting postgres-exporter, supervised");

  await waitFor("redis_up 1", async () => (await metric(redisPort, "redis_up")) === 1, 10_000);
  await waitFor("pg_up 1", async () => (await metric(pgPort, "pg_up")) === 1, 10_000);
  // Read from the servers themselves, not only a flag: sessions each one holds.
  expect(await metric(redisPort, "redis_connected_clients")).toBeGreaterThanOrEqual(1);
  expect(await metric(pgPort, "pg_stat_database_numbackends", 'datname="postgres"')).toBeGreaterThanOrEqual(1);

  const [redisPid, pgPid] = [pidOf("redis-exporter"), pidOf("postgres-exporter")];
  for (const pid of [redisPid, pgPid]) expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toMatch(new RegExp(`${PASSWORD}|postgres://`));

  // Run again (make up twice), it keeps the ones that run.
  expect((await run("bash", [path.join(root, "scripts/exporters.sh")])).stdout).not.toContain("Starting");
  expect([pidOf("redis-exporter"), pidOf("postgres-exporter")]).toEqual([redisPid, pgPid]);

  await Promise.all([redis.stop(), pg.stop()]);
  await waitFor("redis_up 0", async () => (await metric(redisPort, "redis_up")) === 0, 20_000);
  await waitFor("pg_up 0", async () => (await metric(pgPort, "pg_up")) === 0, 20_000);

  await run("bash", [path.join(root, "scripts/down.sh")]);
  for (const pid of [redisPid, pgPid]) expect(alive(pid)).toBe(false);
  for (const name of ["redis-exporter", "postgres-exporter"]) expect(existsSync(path.join(root, ".run", `${name}.pid`))).toBe(false);
  expect(await metric(redisPort, "redis_up")).toBeUndefined();
});
