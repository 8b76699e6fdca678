/**
 * The shop's identity provider's key set for the gateways: fetched from FS_JWT_JWKS_URL,
 * validated with the gateway's own reader (core/jwk.ts, keys loaded by node:crypto), and
 * published to Redis (keys.ts JWKS_KEY) with the issuer, audience and leeway the gateways check,
 * where each gateway's timer picks it up (adapters/key_set.ts).
 *
 * Refreshed every `refreshSeconds` at most, sooner when the provider's Cache-Control max-age
 * says so (never sooner than `minRefreshSeconds`), and soon after a gateway reports a token with
 * an unknown `kid` (JWKS_UNKNOWN_KID_KEY), at most once per `minRefreshSeconds`: so a key added
 * or removed at the provider counts within refreshSeconds plus a second. A fetch that fails or
 * brings a set the gateway would refuse publishes nothing: the last good set stays in force, and
 * the failure is logged and counted. Each good fetch is published
 * again even when unchanged (ETag → 304), so a Redis that lost the set has it back.
 *
 * Every control plane refreshes: the publishes are ordered by when the provider answered (a
 * number taken from Redis as the answer arrives, redis-scripts/config/publish-jwks.lua), so one that
 * held an older answer never replaces a newer set, nor puts back a key the provider removed.
 *
 * Without a URL only the leeway is published, for the HS256 tokens.
 */
import { createHash, createPublicKey } from "node:crypto";
import { Counter, Gauge, RedisScript, type Redis, type Registry } from "@flash-sale/node-common";
import { JWKS_KEY, JWKS_UNKNOWN_KID_KEY } from "@flash-sale/contract/keys";
import { jwkToDer, readKeySet, type KeyPlatform } from "@flash-sale/contract/jwk";
import { PUBLISH_JWKS } from "@flash-sale/contract/scripts/config";

export interface JwksSettings {
  /** FS_JWT_JWKS_URL; undefined: HS256 only. */
  url: string | undefined;
  issuer: string | undefined;
  audience: string | undefined;
  leewaySeconds: number;
  refreshSeconds: number;
  minRefreshSeconds: number;
}

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How long one fetch may take. */
const FETCH_TIMEOUT_MS = 5000;
/** How often the gateways' reports of an unknown kid are read. */
const REPORT_POLL_MS = 1000;
/** The members of a public JWK the gateway reads; others (x5c, private members) are not published. */
const PUBLIC_MEMBERS = ["kty", "kid", "use", "alg", "n", "e", "crv", "x", "y"];

const BASE64URL = /^[A-Za-z0-9_-]*$/;

const PUBLISH = RedisScript.load(PUBLISH_JWKS);

const nodeKeys: KeyPlatform = {
  base64UrlDecode: (s) => (BASE64URL.test(s) && s.length % 4 !== 1 ? Buffer.from(s, "base64url").toString("latin1") : undefined),
  loadPublicKey: (der) => {
    try {
      return createPublicKey({ key: Buffer.from(der, "latin1"), format: "der", type: "spki" });
    } catch {
      return undefined;
    }
  },
};

/** The keys of a fetched JWKS the gateway will use, with their public members only; or why the set is refused. */
export function usableKeys(jwks: unknown): { keys: Record<string, unknown>[]; skipped: string[] } | string {
  const read = readKeySet(jwks, nodeKeys);
  if (typeof read === "string") return read;
  if (read.set.count === 0) return "no usable key";
  const keys = ((jwks as { keys: unknown[] }).keys)
    .filter((k) => typeof jwkToDer(k, nodeKeys) !== "string")
    .map((k) => Object.fromEntries(PUBLIC_MEMBERS.filter((m) => (k as Record<string, unknown>)[m] !== undefined).map((m) => [m, (k as Record<string, unknown>)[m]])));
  return { keys, skipped: read.skipped };
}

/** Seconds of Cache-Control max-age, if any. */
function maxAgeOf(cacheControl: string | null): number | undefined {
  const m = cacheControl === null ? null : /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl);
  return m === null ? undefined : Number(m[1]);
}

export class JwksRefresher {
  private timer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private etag: string | undefined;
  private lastGood: Record<string, unknown>[] | undefined;
  private lastFetchAt = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly failures: Counter<"reason">;
  private readonly lastSuccess: Gauge;
  private readonly keyCount: Gauge;

  constructor(
    private readonly redis: Redis,
    private readonly settings: JwksSettings,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.failures = new Counter({
      name: "fs_control_plane_jwks_refresh_failures_total",
      help: "Fetches of the identity provider's key set that failed or brought a set the gateways would refuse (the last good set stays), by reason (fetch, status, invalid, redis).",
      labelNames: ["reason"],
      registers: [registry],
    });
    // Only where there is a provider: the IdentityKeySetStale alert watches it (0 until the first success).
    this.lastSuccess = new Gauge({
      name: "fs_control_plane_jwks_last_success_timestamp_seconds",
      help: "When the identity provider's key set was last fetched and published (epoch seconds; 0: not yet since the start).",
      registers: settings.url === undefined ? [] : [registry],
    });
    this.keyCount = new Gauge({ name: "fs_control_plane_jwks_keys", help: "Keys of the identity provider's set the gateways use.", registers: [registry] });
  }

  /** Publishes now, then keeps the set fresh until stop(). */
  start(): void {
    this.schedule(0);
    if (this.settings.url !== undefined) this.reportTimer = setInterval(() => void this.readReports(), REPORT_POLL_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.reportTimer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.refresh().then((nextSec) => this.schedule(nextSec * 1000));
    }, delayMs);
  }

  /** A gateway saw an unknown kid: fetch now unless the last fetch was under minRefreshSeconds ago. */
  private async readReports(): Promise<void> {
    if (Date.now() - this.lastFetchAt < this.settings.minRefreshSeconds * 1000) return;
    try {
      const reported = await this.redis.del(JWKS_UNKNOWN_KID_KEY);
      if (reported > 0) {
        this.logger.info({}, "a gateway saw a token with an unknown kid: fetching the key set");
        this.schedule(0);
      }
    } catch (err) {
      this.logger.warn({ err }, "cannot read the gateways' reports of unknown kids");
    }
  }

  /** One refresh; answers the seconds until the next. */
  async refresh(): Promise<number> {
    const { url, refreshSeconds, minRefreshSeconds } = this.settings;
    this.lastFetchAt = Date.now();
    if (url === undefined) {
      await this.takeNumber()
        .then((fetchNumber) => this.publish([], fetchNumber))
        .catch((err: unknown) => this.fail("redis", err));
      return refreshSeconds;
    }
    let res: Response;
    try {
      res = await fetch(url, {
        headers: this.etag !== undefined && this.lastGood !== undefined ? { "If-None-Match": this.etag } : {},
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch (err) {
      this.fail("fetch", err);
      return minRefreshSeconds;
    }
    const maxAge = maxAgeOf(res.headers.get("cache-control"));
    const next = Math.min(refreshSeconds, Math.max(minRefreshSeconds, maxAge ?? refreshSeconds));
    const notModified = res.status === 304 && this.lastGood !== undefined;
    if (!notModified && res.status !== 200) {
      this.fail("status", new Error(`the provider answered ${res.status}`));
      return minRefreshSeconds;
    }
    // Numbered as the answer arrives, before its body is read: the order of the provider's answers.
    let fetchNumber: number;
    try {
      fetchNumber = await this.takeNumber();
    } catch (err) {
      this.fail("redis", err);
      return minRefreshSeconds;
    }
    let keys: Record<string, unknown>[];
    if (notModified) {
      keys = this.lastGood!;
    } else {
      const body: unknown = await res.json().catch(() => undefined);
      const usable = usableKeys(body);
      if (typeof usable === "string") {
        this.fail("invalid", new Error(`key set refused: ${usable}`));
        return minRefreshSeconds;
      }
      if (usable.skipped.length > 0) this.logger.warn({ skipped: usable.skipped }, "keys of the identity provider's set the gateways cannot use");
      keys = usable.keys;
      this.etag = res.headers.get("etag") ?? undefined;
    }
    let written: boolean;
    try {
      written = await this.publish(keys, fetchNumber);
    } catch (err) {
      this.fail("redis", err);
      return minRefreshSeconds;
    }
    if (!written) {
      this.logger.info({ fetchNumber }, "a later fetch of the key set (another control plane's) is published already: this one is not");
    } else if (this.lastGood === undefined || JSON.stringify(this.lastGood) !== JSON.stringify(keys)) {
      this.logger.info({ kids: keys.map((k) => k.kid ?? null) }, "identity provider's key set published");
    }
    this.lastGood = keys;
    this.lastSuccess.set(Date.now() / 1000);
    this.keyCount.set(keys.length);
    return next;
  }

  private takeNumber(): Promise<number> {
    return this.redis.hincrby(JWKS_KEY, "fetches", 1);
  }

  /** Writes the set unless a later fetch was written; answers whether it was. */
  private async publish(keys: Record<string, unknown>[], fetchNumber: number): Promise<boolean> {
    const { issuer, audience, leewaySeconds } = this.settings;
    const set = JSON.stringify({ keys, ...(issuer === undefined ? {} : { issuer }), ...(audience === undefined ? {} : { audience }), leewaySeconds });
    const reply = await PUBLISH.run(this.redis, { jwks: JWKS_KEY }, { fetch: fetchNumber, stamp: createHash("sha256").update(set).digest("hex"), set });
    return reply.reply === "written";
  }

  private fail(reason: string, err: unknown): void {
    this.failures.inc({ reason });
    this.logger.error({ err, url: this.settings.url }, "cannot refresh the identity provider's key set: the gateways keep the last good one");
  }
}
