/**
 * The shop's identity provider's key set (core/jwk.ts) in each worker, as the control plane
 * published it (keys.ts JWKS_KEY), kept in step by a timer that polls its stamp: the keys are
 * read and loaded into libcrypto once per published set per worker. While Redis is unreachable,
 * or has lost the set, or holds one the gateway refuses, the last good set stays in force. The
 * last set read is kept in the flags dict (shared dicts outlive a reload) so the workers a reload
 * starts verify from their first request.
 *
 * A token whose `kid` the set lacks is reported to the control plane (JWKS_UNKNOWN_KID_KEY) by
 * the next sync, at most once per REPORT_INTERVAL_SEC per worker, never from the request.
 */
import { decode_base64url } from "ngx.base64";
import { readKeySet, type KeyPlatform, type KeySet } from "@flash-sale/contract/jwk";
import type { TokenExpectations } from "@flash-sale/contract/jwt";
import { keySlot } from "@flash-sale/contract/cluster";
import { JWKS_KEY, JWKS_UNKNOWN_KID_KEY } from "@flash-sale/contract/keys";
import { decodeJson } from "./json";
import { loadPublicKey } from "./libcrypto";
import { callSlot } from "./redis_connection";
import { flagsDict } from "./shared_dict";

/** A key added or removed at the provider must count within 60 s: the control plane's refresh, then this. */
export const SYNC_INTERVAL_SEC = 1;
const REPORT_INTERVAL_SEC = 5;
/** How long a report waits for the control plane to read it. */
const REPORT_TTL_SEC = 60;
const SNAPSHOT_KEY = "jwks:snapshot";
const SLOT = keySlot(JWKS_KEY);

const keyPlatform: KeyPlatform = {
  base64UrlDecode: (s) => decode_base64url(s) ?? undefined,
  loadPublicKey,
};

let keys: KeySet | undefined;
let expectations: TokenExpectations = { issuer: undefined, audience: undefined };
let leeway = 0;
let knownStamp: string | undefined;
/** Bumped each time the set changes, so that memos of tokens read with an older set are dropped. */
let generation = 0;
let unknownKidSeen = false;
let reportedAt = 0;

export function currentKeySet(): KeySet | undefined {
  return keys;
}

export function tokenExpectations(): TokenExpectations {
  return expectations;
}

/** Seconds of clock skew allowed on `exp` and `nbf` (FS_JWT_LEEWAY_SECONDS, published with the set). */
export function tokenLeewaySec(): number {
  return leeway;
}

export function keySetGeneration(): number {
  return generation;
}

/** A token named a `kid` the set lacks: the next sync asks the control plane to fetch the set. */
export function unknownKidSeenNow(): void {
  unknownKidSeen = true;
}

function optionalText(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Applies a published set; false (and logged) when the gateway refuses it, the last good set kept. */
function applySet(stamp: string, json: string): boolean {
  const published = decodeJson(json) as { [k: string]: unknown } | undefined;
  const read = published === undefined ? "not JSON" : readKeySet(published, keyPlatform);
  if (typeof read === "string") {
    ngx.log(ngx.ERR, "key set sync: refusing the published key set ", stamp, " (keeping the last good one): ", read);
    return false;
  }
  for (const why of read.skipped) ngx.log(ngx.WARN, "key set sync: skipping a key of set ", stamp, ": ", why);
  const p = published as { [k: string]: unknown };
  const seconds = p["leewaySeconds"];
  keys = read.set;
  expectations = { issuer: optionalText(p["issuer"]), audience: optionalText(p["audience"]) };
  leeway = typeof seconds === "number" && seconds >= 0 ? seconds : 0;
  knownStamp = stamp;
  generation++;
  return true;
}

/** init_worker: start from the set the previous workers read, when there is one. */
export function restoreKeySet(): void {
  const [raw] = flagsDict().get(SNAPSHOT_KEY);
  if (typeof raw !== "string") return;
  const [stamp, json] = string.match(raw, "^(%x+) (.*)$");
  if (stamp !== undefined && json !== undefined) applySet(stamp, json);
}

function syncOnce(this: void, red: RestyRedis): LuaMultiReturn<[unknown, string | undefined]> {
  if (unknownKidSeen && ngx.now() - reportedAt >= REPORT_INTERVAL_SEC) {
    const [ok, err] = red.set(JWKS_UNKNOWN_KID_KEY, string.format("%d", ngx.now() * 1000), "EX", REPORT_TTL_SEC);
    if (ok === undefined || ok === false) return $multi(ok, "SET unknown kid: " + tostring(err));
    unknownKidSeen = false;
    reportedAt = ngx.now();
  }
  const [stamp, err] = red.hget(JWKS_KEY, "stamp");
  if (stamp === undefined || stamp === false) return $multi(stamp, "HGET stamp: " + tostring(err));
  // None published (yet, or Redis lost it): the set held stays.
  if (stamp === ngx.null || stamp === knownStamp) return $multi(true, undefined);
  const [json, jsonErr] = red.hget(JWKS_KEY, "set");
  if (json === undefined || json === false) return $multi(json, "HGET set: " + tostring(jsonErr));
  if (json === ngx.null) return $multi(true, undefined);
  if (applySet(stamp as string, json as string)) {
    const [ok, dictErr] = flagsDict().set(SNAPSHOT_KEY, (stamp as string) + " " + (json as string));
    if (!ok) ngx.log(ngx.WARN, "key set sync: cannot keep the set for new workers (flags_dict_size?): ", tostring(dictErr));
  } else {
    // Refused: not read again until another set is published.
    knownStamp = stamp as string;
  }
  return $multi(true, undefined);
}

let lastFailure: string | undefined;

/** Timer callback: one sync round; logs a failure once until it changes or clears. */
export function syncKeySet(this: void, premature: boolean): void {
  if (premature) return;
  const [ok, err] = callSlot(SLOT, syncOnce, undefined);
  const failure = ok === true ? undefined : tostring(err);
  if (failure !== undefined && failure !== lastFailure) {
    ngx.log(ngx.WARN, "key set sync failed (keeping the last key set): ", failure);
  } else if (failure === undefined && lastFailure !== undefined) {
    ngx.log(ngx.NOTICE, "key set sync recovered");
  }
  lastFailure = failure;
}
