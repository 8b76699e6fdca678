/**
 * Log rotation under load loses no line: while shoppers buy, `make logs-rotate`'s script
 * (scripts/rotate-logs.sh) renames the logs three times and nginx reopens them on USR1; every
 * accepted purchase's line is in exactly one of the files, with its request id, counted
 * against the 202s the client saw and the units taken in Redis. And the stack rotates by itself:
 * scripts/nginx.sh starts the rotation beside its gateway, which rotates at log_rotate_size,
 * keeps log_rotate_keep files and stops with its gateway; scripts/down.sh stops it too.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { saleKeys } from "@flash-sale/contract/keys";
import { Gateway, LOAD_TEST_KNOBS, runNginxScript, waitForSale } from "./support/gateway";
import { purchase, request } from "./support/http";
import { REPO_ROOT, waitFor } from "./support/stream-fixtures";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { signToken } from "./support/tokens";

jest.setTimeout(60_000);

const stack = useStack(new TestStack({ name: "log_rotation", knobs: LOAD_TEST_KNOBS }));

function rotate(): void {
  execFileSync("bash", [path.join(REPO_ROOT, "scripts/rotate-logs.sh")], {
    env: { ...process.env, FS_NGINX_PREFIX: stack.gateway.prefix },
    stdio: "pipe",
  });
}

/** Every access-log line in the current and the rotated files. */
function accessLines(): Record<string, unknown>[] {
  const dir = path.join(stack.gateway.prefix, "logs");
  return readdirSync(dir)
    .filter((f) => f.startsWith("access.log"))
    .flatMap((f) => readFileSync(path.join(dir, f), "utf8").split("\n").filter((l) => l !== ""))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("three rotations during a rush: every accepted purchase's line is in exactly one file", async () => {
  const sale = await stack.controlPlane.createSale({ id: "rotation", stock: 100_000, limits: { userRatePerSecond: 1000, userBurst: 1000 } });
  await waitForSale(stack.gateway, sale.id);

  let shopper = 0;
  let accepted = 0;
  let rotating = true;
  const buyers = Array.from({ length: 16 }, async () => {
    while (rotating) {
      const r = await purchase(stack.gateway.url, sale.id, signToken(`rot-${shopper++}`));
      if (r.status !== 202) throw new Error(`unexpected ${r.status} ${r.text}`);
      accepted++;
    }
  });
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 700));
    rotate();
  }
  await new Promise((r) => setTimeout(r, 700));
  rotating = false;
  await Promise.all(buyers);
  await new Promise((r) => setTimeout(r, 1500)); // the access log's buffer is flushed every second

  const dir = path.join(stack.gateway.prefix, "logs");
  expect(readdirSync(dir).filter((f) => f.startsWith("access.log.")).length).toBe(3);
  const lines = accessLines().filter((l) => l["route"] === "purchase" && l["outcome"] === "accepted");
  const requestIds = new Set(lines.map((l) => l["request_id"]));
  expect(accepted).toBeGreaterThan(200);
  expect(lines.length).toBe(accepted);
  expect(requestIds.size).toBe(accepted);
  expect(Number(await stack.redis.get(saleKeys(sale.id).sold))).toBe(accepted);
  // nginx reopened its logs each time: the purchases after the last rotation are in the new file,
  // and no error log, current or rotated, says a reopen failed.
  expect(readFileSync(path.join(dir, "access.log"), "utf8")).toMatch(/"outcome":"accepted"/);
  const errorLogs = readdirSync(dir).filter((f) => f.startsWith("error.log"));
  expect(errorLogs.flatMap((f) => readFileSync(path.join(dir, f), "utf8").split("\n").filter((l) => /\[(error|crit|alert|emerg)\]/.test(l)))).toEqual([]);
});

/** Whether a process runs (a zombie, exited but not reaped, does not). */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  return readFileSync(stat, "utf8").split(") ")[1]?.[0] !== "Z";
}

test("the gateway's own rotation: started with it, rotates at log_rotate_size, keeps log_rotate_keep, stops with it", async () => {
  const knobs = { ...LOAD_TEST_KNOBS, access_log_reads_percent: "100", log_rotate_size: "16k", log_rotate_keep: "2", log_rotate_check_seconds: "0.2" };
  const gateway = await Gateway.start({ redisUrl: stack.redisServer.url(), knobs });
  let supervisor: number | undefined;
  try {
    const started = await runNginxScript(gateway, knobs);
    expect([started.status, started.output]).toEqual([0, expect.stringContaining("Starting the log rotation")]);
    supervisor = Number(readFileSync(path.join(gateway.prefix, "log-rotation.pid"), "utf8"));
    expect(running(supervisor)).toBe(true);
    // Run again (make reload), it keeps the one that runs.
    expect((await runNginxScript(gateway, knobs)).output).not.toContain("Starting the log rotation");

    // Reads of about 300 bytes a line: several times the size.
    const logs = path.join(gateway.prefix, "logs");
    const rotated = () => readdirSync(logs).filter((f) => f.startsWith("access.log.")).sort();
    const seen = new Set<string>();
    for (let round = 0; round < 40 && seen.size < 4; round++) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => request(`${gateway.url}/api/time`)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      for (const f of rotated()) seen.add(f);
    }
    expect(seen.size).toBeGreaterThanOrEqual(4);
    // The oldest are deleted: at most log_rotate_keep, the newest.
    await waitFor("the oldest rotated logs deleted", async () => rotated().length <= 2, 3000);
    expect(rotated()).toEqual([...seen].sort().slice(-rotated().length));
    expect(readFileSync(path.join(logs, "log-rotation.log"), "utf8")).toMatch(/access\.log reached 16384 bytes: rotated/);
    expect(gateway.errorLines()).toEqual([]);
  } finally {
    await gateway.stop();
  }
  await waitFor("the rotation stopped with its gateway", async () => !running(supervisor!), 5000);
});

test("make down stops the gateways' log rotation (scripts/down.sh, by its pid file)", async () => {
  // A root of its own: down.sh acts on the .run beside its scripts only, never on this checkout's stack.
  const root = mkdtempSync(path.join(tmpdir(), "fs-down-"));
  try {
    mkdirSync(path.join(root, "scripts"));
    for (const f of ["lib.sh", "down.sh"]) copyFileSync(path.join(REPO_ROOT, "scripts", f), path.join(root, "scripts", f));
    const rotations = ["nginx", "nginx-2"].map((gw) => {
      mkdirSync(path.join(root, ".run", gw), { recursive: true });
      const proc = spawn("sleep", ["60"], { stdio: "ignore" });
      writeFileSync(path.join(root, ".run", gw, "log-rotation.pid"), `${proc.pid}\n`);
      return new Promise<NodeJS.Signals | null>((resolve) => proc.on("exit", (_code, signal) => resolve(signal)));
    });
    // Not execFileSync: this process must reap the stopped ones while down.sh waits for them.
    await promisify(execFile)("bash", [path.join(root, "scripts/down.sh")]);
    expect(await Promise.all(rotations)).toEqual(["SIGTERM", "SIGTERM"]);
    expect(existsSync(path.join(root, ".run/nginx/log-rotation.pid"))).toBe(false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
