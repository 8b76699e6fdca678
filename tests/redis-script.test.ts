/**
 * The Node services' one script runner (node-common RedisScript) against a real Redis:
 * EVALSHA, EVAL once the server does not know the script, and a script's own error passed on;
 * the includes the scripts share, pasted in at load.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRedis, RedisScript, type Redis } from "@flash-sale/node-common";
import { formatOrderRecord, parseOrderRecord } from "@flash-sale/contract/order_record";
import { PrivateRedis } from "./support/private-redis";

let server: PrivateRedis;
let redis: Redis;
const dir = mkdtempSync(path.join(tmpdir(), "fs-scripts-"));

function script(name: string, source: string): RedisScript {
  const file = path.join(dir, `${name}.lua`);
  writeFileSync(file, source);
  return RedisScript.load(file);
}

beforeAll(async () => {
  server = await PrivateRedis.start();
  redis = createRedis(server.url(), "redis-script-test");
});

afterAll(async () => {
  redis.disconnect();
  await server.destroy();
});

test("runs through EVALSHA once loaded, and through EVAL when the server forgot it", async () => {
  const incr = script("incr-by", "return redis.call('INCRBY', KEYS[1], ARGV[1])");
  expect(incr.name).toBe("incr-by");
  expect(await redis.script("EXISTS", incr.sha)).toEqual([0]);
  expect(await incr.run(redis, ["n"], [2])).toBe(2); // NOSCRIPT, then EVAL (which caches it)
  expect(await redis.script("EXISTS", incr.sha)).toEqual([1]);
  expect(await incr.run(redis, ["n"], [3])).toBe(5);
  await redis.script("FLUSH");
  expect(await incr.run(redis, ["n"], [1])).toBe(6);
});

test("a script's own error reply reaches the caller, and nothing is run twice", async () => {
  const failing = script("failing", "redis.call('INCR', KEYS[1]); return redis.error_reply('ERR boom')");
  await expect(failing.run(redis, ["runs"])).rejects.toThrow("boom");
  expect(await redis.get("runs")).toBe("1");
});

test("includes: the order record the Lua scripts write is the one core/order_record.ts reads, and back", async () => {
  const format = script("format-record", "-- @include order-record\nreturn formatOrderRecord(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])");
  const written = (await format.run(redis, [], ["shopper-1", 2, 1764633600123, 7, 5999, "EUR"])) as string;
  expect(parseOrderRecord(written)).toEqual({ userId: "shopper-1", quantity: 2, acceptedAtMs: 1764633600123, epoch: 7, price: 5999, currency: "EUR" });
  const parse = script("parse-record", "-- @include order-record\nreturn {parseOrderRecord(ARGV[1])}");
  const record = formatOrderRecord({ userId: "shopper-2", quantity: 1, acceptedAtMs: 1764633600999, epoch: 12, price: 0, currency: "USD" });
  expect(await parse.run(redis, [], [record])).toEqual(["shopper-2", "1", "1764633600999", "12", "0", "USD"]);
  // A record written before orders carried their price: read, the price unknown.
  expect(await parse.run(redis, [], ["shopper-3\t1\t1764633600999\t12"])).toEqual(["shopper-3", "1", "1764633600999", "12"]);
  for (const bad of ["not a record", "shopper-3\t1\t1764633600999\t12\t100", "shopper-3\t1\t1764633600999\t12\tx\tUSD", "shopper-3\t1\t1764633600999\t12\t100\t"]) {
    expect(await parse.run(redis, [], [bad])).toEqual([]);
  }
  expect(() => script("unknown-include", "-- @include no-such-thing\nreturn 1")).toThrow("include: no includes/no-such-thing.lua");
});
