/**
 * The Node services' one script runner (node-common RedisScript) against a real Redis:
 * KEYS and ARGV filled by name in the declaration's order, EVALSHA, EVAL once the server does
 * not know the script, the reply decoded (and one that is none of the script's refused), a
 * script's own error passed on; the includes the scripts share (order record, order status,
 * fence), pasted in at load.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RedisScript, SCRIPTS_DIR } from "@flash-sale/node-common";
import { orderStatusField } from "@flash-sale/contract/keys";
import { formatOrderRecord, parseOrderRecord } from "@flash-sale/contract/order_record";
import { STATUS_FIELDS } from "@flash-sale/contract/stream";
import { declareScript } from "@flash-sale/contract/scripts/script";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";

const dir = mkdtempSync(path.join(tmpdir(), "fs-scripts-"));
mkdirSync(path.join(dir, "test"));
mkdirSync(path.join(dir, "includes"));
for (const include of readdirSync(path.join(SCRIPTS_DIR, "includes"))) copyFileSync(path.join(SCRIPTS_DIR, "includes", include), path.join(dir, "includes", include));

/** A script of `source` whose reply is passed on as it came. */
function script(name: string, source: string, keys: string[] = [], args: string[] = []) {
  writeFileSync(path.join(dir, "test", `${name}.lua`), source);
  return RedisScript.load(declareScript({ file: `test/${name}`, keys, args, moreArgs: "more", codes: {}, decode: (reply: unknown) => reply }), dir);
}

const stack = useStack(new TestStack({ name: "redis_script", database: false, gateway: false, controlPlane: false }));

test("runs through EVALSHA once loaded, and through EVAL when the server forgot it", async () => {
  const incr = script("incr-by", "return redis.call('INCRBY', KEYS[1], ARGV[1])", ["counter"], ["by"]);
  expect(await stack.redis.script("EXISTS", incr.sha)).toEqual([0]);
  expect(await incr.run(stack.redis, { counter: "n" }, { by: 2 })).toBe(2); // NOSCRIPT, then EVAL (which caches it)
  expect(await stack.redis.script("EXISTS", incr.sha)).toEqual([1]);
  expect(await incr.run(stack.redis, { counter: "n" }, { by: 3 })).toBe(5);
  await stack.redis.script("FLUSH");
  expect(await incr.run(stack.redis, { counter: "n" }, { by: 1 })).toBe(6);
});

test("named keys and args go in the declaration's order, whatever the object's, then the extra values", async () => {
  const echo = script("echo", "return {KEYS[1], KEYS[2], KEYS[3] or '', ARGV[1], ARGV[2], ARGV[3] or '', #KEYS, #ARGV}", ["a", "b"], ["x", "y"]);
  expect(await echo.run(stack.redis, { b: "{t}b", a: "{t}a" }, { y: 2, x: 1 })).toEqual(["{t}a", "{t}b", "", "1", "2", "", 2, 2]);
  expect(await echo.run(stack.redis, { a: "{t}a", b: "{t}b" }, { x: 1, y: 2 }, { keys: ["{t}c"], args: ["z"] })).toEqual(["{t}a", "{t}b", "{t}c", "1", "2", "z", 3, 3]);
});

test("a reply that is none of the script's is refused, loudly", async () => {
  writeFileSync(path.join(dir, "test", "odd.lua"), "return {42}");
  const odd = RedisScript.load(declareScript({ file: "test/odd", keys: [], args: [], codes: { fine: 0 }, decode: (r: unknown) => (Array.isArray(r) && r[0] === 0 ? "fine" : undefined) }), dir);
  await expect(odd.run(stack.redis, {}, {})).rejects.toThrow("test/odd.lua: unexpected reply [42]");
});

test("a script's own error reply reaches the caller, and nothing is run twice", async () => {
  const failing = script("failing", "redis.call('INCR', KEYS[1]); return redis.error_reply('ERR boom')", ["runs"]);
  await expect(failing.run(stack.redis, { runs: "runs" }, {})).rejects.toThrow("boom");
  expect(await stack.redis.get("runs")).toBe("1");
});

test("includes: the order record the Lua scripts write is the one core/order_record.ts reads, and back", async () => {
  const format = script("format-record", "-- @include order-record\nreturn formatOrderRecord(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])");
  const written = (await format.run(stack.redis, {}, {}, { args: ["shopper-1", 2, 1764633600123, 7, 5999, "EUR"] })) as string;
  expect(parseOrderRecord(written)).toEqual({ userId: "shopper-1", quantity: 2, acceptedAtMs: 1764633600123, epoch: 7, price: 5999, currency: "EUR" });
  const parse = script("parse-record", "-- @include order-record\nreturn {parseOrderRecord(ARGV[1])}");
  const record = formatOrderRecord({ userId: "shopper-2", quantity: 1, acceptedAtMs: 1764633600999, epoch: 12, price: 0, currency: "USD" });
  expect(await parse.run(stack.redis, {}, {}, { args: [record] })).toEqual(["shopper-2", "1", "1764633600999", "12", "0", "USD"]);
  // A record written before orders carried their price: read, the price unknown.
  expect(await parse.run(stack.redis, {}, {}, { args: ["shopper-3\t1\t1764633600999\t12"] })).toEqual(["shopper-3", "1", "1764633600999", "12"]);
  for (const bad of ["not a record", "shopper-3\t1\t1764633600999\t12\t100", "shopper-3\t1\t1764633600999\t12\tx\tUSD", "shopper-3\t1\t1764633600999\t12\t100\t"]) {
    expect(await parse.run(stack.redis, {}, {}, { args: [bad] })).toEqual([]);
  }
  expect(() => script("unknown-include", "-- @include no-such-thing\nreturn 1")).toThrow("include: no includes/no-such-thing.lua");
});

test("includes: a status change writes the field and the stream entry the worker reads (keys.ts, stream.ts)", async () => {
  const change = script("change-status", "-- @include order-status\nchangeStatus(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])\nreturn 1", ["orders", "changes"], ["n", "epoch", "user", "status"]);
  await change.run(stack.redis, { orders: "{s}:orders", changes: "{s}:changes" }, { n: 12, epoch: 3, user: "shopper-1", status: "paid" });
  expect(await stack.redis.hget("{s}:orders", orderStatusField("12"))).toBe("paid");
  const entries = await stack.redis.xrange("{s}:changes", "-", "+");
  expect(entries.map(([, fields]) => fields)).toEqual([[STATUS_FIELDS.orderNo, "12", STATUS_FIELDS.epoch, "3", STATUS_FIELDS.userId, "shopper-1", STATUS_FIELDS.status, "paid"]]);
});

test("includes: a fence holds on the process that wrote it, not on another run id, nor when missing", async () => {
  const fence = script("fence", "-- @include fence\nreturn {builtFence(KEYS[1]) or 'held', fenceEpoch(fenceOf(thisRunId(), ARGV[1]))}", ["meta"], ["epoch"]);
  const runId = /run_id:([0-9a-f]+)/.exec(await stack.redis.info("server"))![1]!;
  expect(await fence.run(stack.redis, { meta: "meta" }, { epoch: 7 })).toEqual(["held", "7"]);
  await stack.redis.hset("meta", "fence", `${"0".repeat(40)}:7`);
  expect(await fence.run(stack.redis, { meta: "meta" }, { epoch: 7 })).toEqual(["held", "7"]);
  await stack.redis.hset("meta", "fence", `${runId}:12`);
  expect(await fence.run(stack.redis, { meta: "meta" }, { epoch: 7 })).toEqual([`${runId}:12`, "7"]);
});
