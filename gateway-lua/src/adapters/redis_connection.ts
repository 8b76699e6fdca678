/**
 * Redis connections from the keepalive pool of each nginx worker. A fresh connection is
 * authenticated and switched to the configured database once; reused ones are ready.
 */
import * as redis from "resty.redis";
import { settings } from "../settings";

export type RedisConnection = RestyRedis;

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
