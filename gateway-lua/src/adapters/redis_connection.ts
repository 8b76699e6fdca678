/**
 * Redis connections from the keepalive pool of each nginx worker. A fresh connection is
 * authenticated and switched to the configured database once; reused ones are ready.
 *
 * A fresh connection also reads the run id of the Redis process it reached (INFO server). A
 * connection never outlives its server process, so after a restart or a failover every
 * command goes out on a fresh connection, which learns the new run id before its first
 * script: the purchase script compares it with the sale's fence and holds the sale when the
 * state was built on another process (redis-scripts/purchase.lua).
 */
import * as redis from "resty.redis";
import { settings } from "../settings";

export type RedisConnection = RestyRedis;

/** The run id the last fresh connection of this worker found; "" until one was made. */
let serverRunId = "";

export function redisRunId(): string {
  return serverRunId;
}

function readRunId(red: RestyRedis): string | undefined {
  const [info] = red.info("server");
  if (typeof info !== "string") return undefined;
  const [id] = string.match(info, "run_id:(%x+)");
  return id;
}

let connectOptions: { pool: string; pool_size: number } | undefined;

function options(): { pool: string; pool_size: number } {
  if (connectOptions === undefined) {
    const s = settings();
    connectOptions = { pool: "fs:" + s.redis.host + ":" + s.redis.port + ":" + s.redis.db, pool_size: s.redisPoolSize };
  }
  return connectOptions;
}

/** Opens (or reuses) a connection; returns it, or undefined and the reason. */
export function openRedis(): LuaMultiReturn<[RedisConnection | undefined, string | undefined]> {
  const s = settings();
  const [red, newErr] = redis.new();
  if (red === undefined) return $multi(undefined, newErr);
  red.set_timeout(s.redisConnectTimeoutMs);
  const [ok, err] = red.connect(s.redis.host, s.redis.port, options());
  if (ok === undefined) return $multi(undefined, "connect: " + tostring(err));
  red.set_timeout(s.redisTimeoutMs);
  const [reused] = red.get_reused_times();
  if (reused === 0) {
    if (s.redis.password !== undefined) {
      const [authOk, authErr] = red.auth(s.redis.password);
      if (authOk === undefined || authOk === false) {
        red.close();
        return $multi(undefined, "auth: " + tostring(authErr));
      }
    }
    if (s.redis.db !== 0) {
      const [selOk, selErr] = red.select(s.redis.db);
      if (selOk === undefined || selOk === false) {
        red.close();
        return $multi(undefined, "select: " + tostring(selErr));
      }
    }
    const runId = readRunId(red);
    if (runId === undefined) {
      red.close();
      return $multi(undefined, "INFO server: no run_id");
    }
    serverRunId = runId;
  }
  return $multi(red, undefined);
}

/** Returns a healthy connection to the pool. */
export function releaseRedis(red: RedisConnection): void {
  const s = settings();
  red.set_keepalive(s.redisIdleTimeoutMs, s.redisPoolSize);
}

/** Drops a connection whose state is unknown (after a transport error). */
export function discardRedis(red: RedisConnection): void {
  red.close();
}
