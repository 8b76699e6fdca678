/**
 * Redis calls from each nginx worker, on keepalive pools (one per Redis node), each routed to
 * the node that serves its key's slot.
 *
 * One Redis (FS_REDIS_URL): every call goes there. Redis Cluster (FS_REDIS_CLUSTER_NODES): the
 * worker keeps the slot map of CLUSTER SLOTS; a MOVED or ASK reply is followed once (and a
 * MOVED, or a node that cannot be reached, has the map read again), so a call costs one round
 * trip until the topology changes. A failed node is not retried on the same call: until the
 * cluster has promoted a replica nothing can serve its slots, and the caller fails closed.
 *
 * A fresh connection reads the run id of the Redis process it reached (INFO server), kept per
 * node. A connection never outlives its server process, so after a restart or a failover
 * every call goes out on a fresh connection, which learns the new run id before its first
 * script: the purchase script compares it with the sale's fence and holds the sale when the
 * state was built on another process (redis-scripts/purchase.lua).
 */
import * as redis from "resty.redis";
import { parseClusterSlots, parseNodeAddress, parseRedirect, slotOwner, type NodeAddress, type SlotMap } from "@flash-sale/contract/cluster";
import { settings } from "../settings";

/**
 * One call on a connection to the node serving the slot, given the run id of that node's
 * process and whether the call follows an ASK redirect (a script's EVAL fallback must then say
 * ASKING again: see redis_scripts.ts). Answers as lua-resty-redis does: an error reply as
 * (false, err), a transport error as (undefined, err); the connection is then closed.
 */
export type RedisCall<A> = (this: void, red: RestyRedis, runId: string, asking: boolean, arg: A) => LuaMultiReturn<[unknown, string | undefined]>;

/** Run id of each node's process, as its last fresh connection read it. */
const runIds = new LuaTable<string, string>();
const addresses = new LuaTable<string, NodeAddress>();
const poolOptions = new LuaTable<string, PoolOptions>();

/** tcpsock:connect's pool options; `backlog` (absent = no limit) queues connects beyond pool_size. */
interface PoolOptions {
  pool: string;
  pool_size: number;
  backlog?: number;
}

function poolOptionsFor(pool: string): PoolOptions {
  const s = settings();
  return s.redisPoolBacklog > 0 ? { pool, pool_size: s.redisPoolSize, backlog: s.redisPoolBacklog } : { pool, pool_size: s.redisPoolSize };
}

function readRunId(red: RestyRedis): string | undefined {
  const [info] = red.info("server");
  if (typeof info !== "string") return undefined;
  const [id] = string.match(info, "run_id:(%x+)");
  return id;
}

let singleNode: string | undefined;

/** The node of FS_REDIS_URL; undefined in cluster mode. */
function configuredNode(): string | undefined {
  const s = settings();
  if (s.redisClusterNodes !== undefined) return undefined;
  if (singleNode === undefined) {
    singleNode = s.redis.host + ":" + s.redis.port;
    addresses.set(singleNode, { host: s.redis.host, port: s.redis.port });
    poolOptions.set(singleNode, poolOptionsFor("fs:" + singleNode + ":" + s.redis.db));
  }
  return singleNode;
}

function addressOf(node: string): NodeAddress | undefined {
  const known: NodeAddress | undefined = addresses.get(node);
  if (known !== undefined) return known;
  const address = parseNodeAddress(node);
  if (address === undefined) return undefined;
  addresses.set(node, address);
  poolOptions.set(node, poolOptionsFor("fs:" + node));
  return address;
}

/** A fresh one is authenticated and switched to the database (one Redis only: a cluster has db 0). */
function prepareFresh(red: RestyRedis, node: string): string | undefined {
  const s = settings();
  if (s.redisClusterNodes === undefined) {
    if (s.redis.password !== undefined) {
      const [authOk, authErr] = red.auth(s.redis.password);
      if (authOk === undefined || authOk === false) return "auth: " + tostring(authErr);
    }
    if (s.redis.db !== 0) {
      const [selOk, selErr] = red.select(s.redis.db);
      if (selOk === undefined || selOk === false) return "select: " + tostring(selErr);
    }
  }
  const runId = readRunId(red);
  if (runId === undefined) return "INFO server: no run_id";
  runIds.set(node, runId);
  return undefined;
}

/** Connects of this worker now waiting, most of them for a pooled connection (knob redis_pool_backlog). */
let waitingConnects = 0;
/** Until when (ngx.now(), seconds) a recent connect counts as having waited out its timeout. */
let timedOutUntilSec = 0;
const TIMED_OUT_HOLD_SEC = 1;

/**
 * True while the pool is overrun: a connect waited out redis_connect_timeout_ms within the
 * last second, and as many requests wait for a connection as the pool holds. A purchase that
 * went on would spend its checks (JWT, body) only to time out in the same wait; refusing it
 * before them keeps the worker's CPU for the requests holding connections. A burst that the
 * pool serves within the timeout is never refused. The count is kept around the connect
 * alone, which returns its errors instead of raising, so no request leaves a count behind.
 */
export function redisSaturated(nowSec: number): boolean {
  return waitingConnects >= settings().redisPoolSize && nowSec < timedOutUntilSec;
}

/** Opens (or reuses) a connection to `node`; answers it and the run id of its process, or undefined and why. */
function openNode(node: string): LuaMultiReturn<[RestyRedis | undefined, string]> {
  const s = settings();
  const address = addressOf(node);
  if (address === undefined) return $multi(undefined, "bad node address " + node);
  const [red, newErr] = redis.new();
  if (red === undefined) return $multi(undefined, tostring(newErr));
  red.set_timeout(s.redisConnectTimeoutMs);
  waitingConnects++;
  const [ok, err] = red.connect(address.host, address.port, poolOptions.get(node));
  waitingConnects--;
  if (ok === undefined) {
    // A refused connect (Redis down) fails at once and says nothing about the pool.
    if (err === "timeout" || err === "too many waiting connect operations") timedOutUntilSec = ngx.now() + TIMED_OUT_HOLD_SEC;
    return $multi(undefined, "connect " + node + ": " + tostring(err));
  }
  red.set_timeout(s.redisTimeoutMs);
  const [reused] = red.get_reused_times();
  if (reused === 0) {
    const failure = prepareFresh(red, node);
    if (failure !== undefined) {
      red.close();
      return $multi(undefined, failure);
    }
  }
  // Set by the fresh connection the pooled ones descend from; "" holds every sale.
  return $multi(red, runIds.get(node) ?? "");
}

// ---- the slot map (cluster mode) ----

let slotMap: SlotMap | undefined;
/** Seconds between two reads of the map, however many calls fail meanwhile. */
const REFRESH_INTERVAL_SEC = 0.1;
let refreshing = false;
const MAX_MAP_WAIT_SEC = 1;
const MAP_WAIT_STEP_SEC = 0.005;
let refreshScheduled = false;
let lastRefreshAt = 0;
/** Rotates the node asked first, so that a dead one is not always asked first. */
let askFrom = 0;

function candidateNodes(): string[] {
  const seeds = settings().redisClusterNodes as string[];
  if (slotMap === undefined) return seeds;
  const all = [...slotMap.nodes];
  for (const seed of seeds) if (!all.includes(seed)) all.push(seed);
  return all;
}

/** Reads CLUSTER SLOTS from the first node that answers; undefined, or why no map was read. */
function refreshSlotMap(): string | undefined {
  if (refreshing) return "slot map being read";
  refreshing = true;
  lastRefreshAt = ngx.now();
  const nodes = candidateNodes();
  askFrom = (askFrom + 1) % nodes.length;
  let failure = "no cluster node";
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[(askFrom + i) % nodes.length] as string;
    const [red, err] = openNode(node);
    if (red === undefined) {
      failure = err;
      continue;
    }
    const [reply, replyErr] = red.cluster("slots");
    if (reply === undefined) {
      red.close();
      failure = node + ": " + tostring(replyErr);
      continue;
    }
    red.set_keepalive(settings().redisIdleTimeoutMs, settings().redisPoolSize);
    const parsed = parseClusterSlots(reply === false ? replyErr : reply, (addressOf(node) as NodeAddress).host);
    if (typeof parsed === "string") {
      failure = node + ": " + parsed;
      continue;
    }
    slotMap = parsed;
    refreshing = false;
    return undefined;
  }
  refreshing = false;
  return failure;
}

function refreshTimer(this: void, premature: boolean): void {
  refreshScheduled = false;
  if (premature) return;
  const failure = refreshSlotMap();
  if (failure !== undefined) ngx.log(ngx.WARN, "redis cluster: cannot read the slot map: ", failure);
}

/**
 * The map may be out of date (a redirect, a node that cannot be reached): read it again in
 * the background, at most every REFRESH_INTERVAL_SEC.
 */
export function slotMapStale(): void {
  if (refreshScheduled || settings().redisClusterNodes === undefined) return;
  refreshScheduled = true;
  const wait = Math.max(0, lastRefreshAt + REFRESH_INTERVAL_SEC - ngx.now());
  const [ok, err] = ngx.timer.at(wait, refreshTimer);
  if (!ok) {
    refreshScheduled = false;
    ngx.log(ngx.WARN, "redis cluster: cannot schedule a slot map refresh: ", tostring(err));
  }
}

/** The node serving `slot`: the one Redis, or the slot's primary by the map (read now when there is none yet). */
export function nodeOfSlot(slot: number): LuaMultiReturn<[string | undefined, string | undefined]> {
  const single = configuredNode();
  if (single !== undefined) return $multi(single, undefined);
  if (slotMap === undefined) {
    // The first calls of a new worker: one reads the map, the others wait for it.
    for (let waited = 0; refreshing && waited < MAX_MAP_WAIT_SEC; waited += MAP_WAIT_STEP_SEC) ngx.sleep(MAP_WAIT_STEP_SEC);
    const failure = slotMap === undefined ? refreshSlotMap() : undefined;
    if (failure !== undefined) return $multi(undefined, "no slot map: " + failure);
  }
  const owner = slotOwner(slotMap as SlotMap, slot);
  if (owner === undefined) return $multi(undefined, "no node serves slot " + slot);
  return $multi(owner, undefined);
}

// ---- calls ----

function release(red: RestyRedis): void {
  const s = settings();
  red.set_keepalive(s.redisIdleTimeoutMs, s.redisPoolSize);
}

/**
 * Runs `call` on `node`, no redirect followed (the caller sees it as the error reply). A
 * connection whose state is unknown (a transport error) is closed, and has the map read again.
 */
export function callNode<A>(node: string, call: RedisCall<A>, arg: A, asking = false): LuaMultiReturn<[unknown, string | undefined]> {
  const [red, runIdOrErr] = openNode(node);
  if (red === undefined) {
    slotMapStale();
    return $multi(undefined, runIdOrErr);
  }
  if (asking) {
    const [askOk, askErr] = red.asking();
    if (askOk === undefined || askOk === false) {
      red.close();
      return $multi(undefined, "ASKING: " + tostring(askErr));
    }
  }
  const [res, err] = call(red, runIdOrErr, asking, arg);
  if (res === undefined) {
    red.close();
    slotMapStale();
  } else {
    release(red);
  }
  return $multi(res, err);
}

/** Runs `call` on the node serving `slot`, following up to two redirects (a MOVED, then an ASK while the slot migrates). */
export function callSlot<A>(slot: number, call: RedisCall<A>, arg: A): LuaMultiReturn<[unknown, string | undefined]> {
  const [node, noNode] = nodeOfSlot(slot);
  if (node === undefined) return $multi(undefined, noNode);
  let [res, err] = callNode(node, call, arg);
  // A redirect answers before the command runs: following it never runs a call twice.
  for (let hop = 0; hop < 2 && res === false && err !== undefined; hop++) {
    const redirect = parseRedirect(err);
    if (redirect === undefined) break;
    if (!redirect.ask) slotMapStale();
    [res, err] = callNode(redirect.node, call, arg, redirect.ask);
  }
  return $multi(res, err);
}
