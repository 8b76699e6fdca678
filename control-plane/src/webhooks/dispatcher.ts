/**
 * Delivers the webhook outbox (migrations/013_webhooks.sql) to the shop's endpoints, at least
 * once. Any number of dispatchers run together (one per control plane):
 * - fan-out: one at a time (a transaction-level advisory lock) writes the sale events due and
 *   makes a delivery per subscribed endpoint of each new event, in seq order;
 * - claims: each takes due deliveries with FOR UPDATE SKIP LOCKED and leases them (moves their
 *   next try past the send's timeout) in one short transaction, then sends outside any
 *   transaction, over kept-alive connections; a dispatcher killed mid-send leaves the lease to
 *   run out and another sends again;
 * - the answers that came in while the loop was busy are written in one statement at its next
 *   turn, before it claims again (one Postgres commit per turn, not per delivery);
 * - an order's events go to an endpoint in order: a delivery waits while an earlier one of the
 *   same order to the same endpoint is undelivered;
 * - a failure is retried with exponential backoff and jitter; once a delivery has failed for
 *   the retry window its endpoint is disabled, its deliveries kept until it is enabled again.
 */
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { Logger, Pool } from "@flash-sale/node-common";
import { guardedLookup, hostOf, isPrivateAddress } from "./address-check";
import { retryDelayMs, type Backoff } from "./backoff";
import { eventBody, webhookId } from "./events";
import type { WebhookMetrics } from "./metrics";
import { writeSaleEvents } from "./sale-events";
import { signedHeaders, type SignedHeaders } from "./signing";

export interface DispatcherSettings {
  /** Endpoints on private or loopback addresses may be reached (FS_WEBHOOK_ALLOW_PRIVATE_URLS). */
  allowPrivateUrls: boolean;
  /** A delivery failing this long disables its endpoint (FS_WEBHOOK_RETRY_FOR_SECONDS). */
  retryForMs: number;
  backoff: Backoff;
  /** One attempt's limit, connection to answer (FS_WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Deliveries in flight at once in this dispatcher (FS_WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** The wait between looks at the outbox when there is nothing to send (FS_WEBHOOK_POLL_MS). */
  pollMs: number;
}

/** Serialises the fan-out across dispatchers: its order is the order of an endpoint's deliveries. */
const FAN_OUT_LOCK = 7_342_013;
/** How often the sale events are looked for (each look sums the orders of the sales selling). */
const SALE_EVENTS_EVERY_MS = 1000;
const FAN_OUT_BATCH = 1000;
/**
 * While sends keep waking it, the dispatcher fans out at most this often, not at every round (a
 * fan-out is four round trips): a new event waits this long at most before its first claim.
 */
const BUSY_FAN_OUT_EVERY_MS = 100;
/** A lease outlives the send it covers by this much (recording the answer). */
const LEASE_MARGIN_MS = 5000;
/** Kept of an error or a receiver's status line in the delivery's record. */
const ERROR_CHARS = 300;

const FAN_OUT = `
WITH batch AS (SELECT seq, type, order_id FROM webhook_events WHERE NOT fanned_out ORDER BY seq LIMIT ${FAN_OUT_BATCH}),
made AS (
  INSERT INTO webhook_deliveries (endpoint_id, event_seq, order_id)
  SELECT e.id, b.seq, b.order_id FROM batch b JOIN webhook_endpoints e ON b.type = ANY (e.events)
  ON CONFLICT DO NOTHING
)
UPDATE webhook_events ev SET fanned_out = true FROM batch WHERE ev.seq = batch.seq`;

const CLAIM = `
WITH due AS (
  SELECT d.endpoint_id, d.event_seq FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.disabled_at IS NULL
   WHERE d.delivered_at IS NULL AND d.next_attempt_at <= now()
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                      WHERE p.endpoint_id = d.endpoint_id AND p.order_id = d.order_id
                        AND p.event_seq < d.event_seq AND p.delivered_at IS NULL)
   ORDER BY d.next_attempt_at, d.event_seq
   LIMIT $1
   FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = now() + $2 * interval '1 millisecond'
  FROM due, webhook_events ev, webhook_endpoints e
 WHERE d.endpoint_id = due.endpoint_id AND d.event_seq = due.event_seq AND ev.seq = d.event_seq AND e.id = d.endpoint_id
RETURNING d.endpoint_id, d.event_seq, d.attempts, d.first_failed_at, ev.type, ev.data, ev.created_at, e.url, e.secret,
  CASE WHEN e.previous_secret_until > now() THEN e.previous_secret END AS previous_secret`;

/**
 * The answers of a turn, one row each: delivered (error null) or failed (retried after retry_ms).
 * One already recorded delivered (sent again by another dispatcher after the lease) stays as it is.
 */
const RECORD = `
UPDATE webhook_deliveries d
   SET attempts = d.attempts + 1, last_attempt_at = a.at, last_status = a.status, last_error = a.error,
       delivered_at = CASE WHEN a.error IS NULL THEN now() END,
       first_failed_at = CASE WHEN a.error IS NOT NULL THEN COALESCE(d.first_failed_at, a.at) END,
       next_attempt_at = CASE WHEN a.error IS NULL THEN d.next_attempt_at ELSE now() + a.retry_ms * interval '1 millisecond' END
  FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::int[], $5::text[], $6::int[]) AS a(endpoint_id, event_seq, at, status, error, retry_ms)
 WHERE d.endpoint_id = a.endpoint_id AND d.event_seq = a.event_seq AND d.delivered_at IS NULL
RETURNING d.endpoint_id, d.first_failed_at`;

const DISABLE = `
UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = $2, updated_at = now()
 WHERE id = $1 AND disabled_at IS NULL`;

interface Claimed {
  endpoint_id: string;
  event_seq: string;
  attempts: number;
  type: string;
  data: unknown;
  created_at: Date;
  url: string;
  secret: string;
  previous_secret: string | null;
}

interface Answer {
  /** The receiver's HTTP status; undefined when it gave none. */
  status?: number;
  error?: string;
}

interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/** A delivery's attempt, answered, waiting for the loop's next turn to be written. */
interface Outcome {
  d: Claimed;
  at: Date;
  status: number | null;
  /** Null when delivered. */
  error: string | null;
  retryMs: number | null;
}

export interface DispatcherDeps {
  pool: Pool;
  logger: Logger;
  settings: DispatcherSettings;
  metrics?: WebhookMetrics;
}

export class WebhookDispatcher {
  private running = false;
  private loop: Promise<void> | undefined;
  private inFlight = 0;
  private saleEventsAt = 0;
  private fannedOutAt = 0;
  private readonly sends = new Set<Promise<void>>();
  /** Answered attempts not yet written; the loop writes them at its next turn. */
  private outcomes: Outcome[] = [];
  /** Resolves the loop's wait early: a send finished (its answer to write, an order's next event may be due). */
  private wake: (() => void) | undefined;
  /** Connections kept alive between sends: no TCP (and TLS) handshake per event. */
  private readonly agents: Agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(private readonly deps: DispatcherDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming, waits for the sends in flight (each bounded by the timeout) and writes their answers. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.all(this.sends);
    // Answers not written now are sent again after their lease.
    await this.record().catch((err: unknown) => this.deps.logger.warn({ err }, "webhook answers not recorded; sent again after their lease"));
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async run(): Promise<void> {
    const { logger, settings } = this.deps;
    let failing = false;
    while (this.running) {
      let claimed = 0;
      try {
        await this.record();
        if (Date.now() - this.fannedOutAt >= Math.min(BUSY_FAN_OUT_EVERY_MS, settings.pollMs)) {
          await this.fanOut();
          this.fannedOutAt = Date.now();
        }
        const free = settings.concurrency - this.inFlight;
        if (free > 0) {
          const deliveries = await this.claim(free);
          claimed = deliveries.length;
          for (const d of deliveries) this.send(d);
        }
        if (failing) logger.info("webhook dispatcher: Postgres answers again");
        failing = false;
      } catch (err) {
        if (!failing) logger.warn({ err }, "webhook dispatcher: Postgres failed; trying again");
        failing = true;
      }
      // Straight on while there are answers to write, or more to claim and room to send it.
      if (!failing && (this.outcomes.length > 0 || (claimed > 0 && this.inFlight < settings.concurrency))) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, failing ? settings.pollMs * 4 : settings.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Writes the sale events due and fans new events out, unless another dispatcher is doing it. */
  private async fanOut(): Promise<void> {
    const client = await this.deps.pool.connect();
    try {
      await client.query("BEGIN");
      const locked = await client.query<{ got: boolean }>("SELECT pg_try_advisory_xact_lock($1) AS got", [FAN_OUT_LOCK]);
      if (locked.rows[0]?.got === true) {
        if (Date.now() - this.saleEventsAt >= SALE_EVENTS_EVERY_MS) {
          const saleEvents = await writeSaleEvents(client);
          this.saleEventsAt = Date.now();
          if (saleEvents > 0) this.deps.logger.info({ events: saleEvents }, "sale events written to the webhook outbox");
        }
        let fanned = FAN_OUT_BATCH;
        while (fanned === FAN_OUT_BATCH) fanned = (await client.query(FAN_OUT)).rowCount ?? 0;
      }
      await client.query("COMMIT");
      client.release();
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  private async claim(limit: number): Promise<Claimed[]> {
    const leaseMs = this.deps.settings.timeoutMs + LEASE_MARGIN_MS;
    return (await this.deps.pool.query<Claimed>(CLAIM, [limit, leaseMs])).rows;
  }

  private send(d: Claimed): void {
    this.inFlight += 1;
    const done = this.attempt(d)
      .then((outcome) => void this.outcomes.push(outcome))
      .catch((err: unknown) => this.deps.logger.warn({ err, endpoint: d.endpoint_id, event: webhookId(d.event_seq) }, "webhook delivery not attempted; tried again after its lease"))
      .finally(() => {
        this.inFlight -= 1;
        this.sends.delete(done);
        this.wake?.();
      });
    this.sends.add(done);
  }

  private async attempt(d: Claimed): Promise<Outcome> {
    const { settings, metrics } = this.deps;
    const at = new Date();
    const body = eventBody(d.type, d.created_at, d.data);
    const secrets = d.previous_secret === null ? [d.secret] : [d.secret, d.previous_secret];
    const answer = await post(d.url, body, signedHeaders(webhookId(d.event_seq), at, body, secrets), settings, this.agents);
    const status = answer.status ?? null;
    if (status !== null && status >= 200 && status < 300) return { d, at, status, error: null, retryMs: null };
    metrics?.failed.inc({ endpoint: d.endpoint_id });
    const error = (answer.error ?? `answered ${status}`).slice(0, ERROR_CHARS);
    return { d, at, status, error, retryMs: retryDelayMs(d.attempts + 1, settings.backoff) };
  }

  /** Writes the answers waiting, in one statement; disables an endpoint failing for its retry window. */
  private async record(): Promise<void> {
    if (this.outcomes.length === 0) return;
    const { pool, settings, metrics, logger } = this.deps;
    const batch = this.outcomes;
    this.outcomes = [];
    // Not written (Postgres failed), they are sent again after their lease, as after a crash.
    const { rows } = await pool.query<{ endpoint_id: string; first_failed_at: Date | null }>(RECORD, [
      batch.map((o) => o.d.endpoint_id),
      batch.map((o) => o.d.event_seq),
      batch.map((o) => o.at),
      batch.map((o) => o.status),
      batch.map((o) => o.error),
      batch.map((o) => o.retryMs),
    ]);
    const now = Date.now();
    const lastError = new Map<string, string>();
    for (const o of batch) {
      const labels = { endpoint: o.d.endpoint_id };
      if (o.error === null) {
        metrics?.delivered.inc(labels);
        metrics?.lag.observe(labels, (now - o.d.created_at.getTime()) / 1000);
      } else {
        lastError.set(o.d.endpoint_id, o.error);
        logger.debug({ endpoint: o.d.endpoint_id, event: webhookId(o.d.event_seq), error: o.error, retryInMs: o.retryMs }, "webhook delivery failed");
      }
    }
    const expired = new Set(rows.filter((r) => r.first_failed_at !== null && now - r.first_failed_at.getTime() >= settings.retryForMs).map((r) => r.endpoint_id));
    for (const endpoint of expired) {
      const reason = `deliveries failed for ${Math.round(settings.retryForMs / 1000)} s (last: ${lastError.get(endpoint)})`;
      if (((await pool.query(DISABLE, [endpoint, reason])).rowCount ?? 0) > 0) {
        metrics?.disablements.inc({ endpoint });
        logger.error({ endpoint, url: batch.find((o) => o.d.endpoint_id === endpoint)?.d.url, reason }, "webhook endpoint disabled: its events wait until it is enabled again");
      }
    }
  }
}

/** One attempt: POST, no redirects followed, the whole exchange within the timeout. */
function post(raw: string, body: string, headers: SignedHeaders, settings: DispatcherSettings, agents: Agents): Promise<Answer> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return Promise.resolve({ error: "not a URL" });
  }
  // A literal address is never looked up, so it is checked here.
  const host = hostOf(url);
  if (!settings.allowPrivateUrls && isIP(host) !== 0 && isPrivateAddress(host)) return Promise.resolve({ error: `${host} is a private or reserved address` });
  const tls = url.protocol === "https:";
  return new Promise((resolve) => {
    const req = (tls ? https : http).request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "flash-sale-webhooks/1" },
        lookup: guardedLookup(settings.allowPrivateUrls) as never,
        agent: tls ? agents.https : agents.http,
      },
      (res) => {
        // The answer's body is not read; its end (or the timeout) settles the attempt.
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode }));
        res.on("error", (err) => resolve({ status: res.statusCode, error: err.message }));
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${settings.timeoutMs} ms`)), settings.timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code !== undefined && !err.message.includes(err.code) ? `${err.code} ${err.message}` : err.message }));
    req.on("close", () => clearTimeout(timer));
    req.end(body);
  });
}
