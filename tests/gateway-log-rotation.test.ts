/**
 * Log rotation under load loses no line: while shoppers buy, `make logs-rotate`'s script
 * (scripts/rotate-logs.sh) renames the logs three times and nginx reopens them on USR1; every
 * accepted purchase's line is in exactly one of the files, with its request id, counted
 * against the 202s the client saw and the units taken in Redis.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { purchase } from "./support/http";
import { REPO_ROOT } from "./support/stream-fixtures";
import { TestStack } from "./support/test-stack";
import { signToken } from "./support/tokens";

jest.setTimeout(60_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await TestStack.start({ name: "log_rotation", knobs: LOAD_TEST_KNOBS });
});

afterAll(async () => {
  await stack?.stop();
});

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
  expect(stack.gateway.errorLines()).toEqual([]);
});
