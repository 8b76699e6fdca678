/** The webhook endpoints and their deliveries in Postgres (migrations/013_webhooks.sql), for the admin API. */
import { randomBytes } from "node:crypto";
import type { Pool } from "@flash-sale/node-common";
import { newSecret } from "./signing";
import { webhookId } from "./events";

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  previous_secret_until: Date | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

/** An endpoint as the admin API shows it: never its secret, which is shown once when made. */
export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledAt: string | null;
  disabledReason: string | null;
  /** After a rotation: until when the previous secret signs too. */
  previousSecretUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EndpointChange {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

export interface DeliveryView {
  eventId: string;
  type: string;
  saleId: string;
  orderId: string | null;
  eventCreatedAt: string;
  attempts: number;
  lastAttemptAt: string | null;
  /** The receiver's HTTP status at the last attempt; null when it gave none (refused, timed out). */
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

const COLUMNS = "id, url, events, description, previous_secret_until, disabled_at, disabled_reason, created_at, updated_at";

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

function view(row: EndpointRow): EndpointView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.disabled_at === null,
    disabledAt: iso(row.disabled_at),
    disabledReason: row.disabled_reason,
    previousSecretUntil: row.previous_secret_until !== null && row.previous_secret_until > new Date() ? row.previous_secret_until.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export class WebhookEndpoints {
  constructor(private readonly pool: Pool) {}

  async create(input: { url: string; events: string[]; description: string | null }): Promise<EndpointView & { secret: string }> {
    const id = `ep_${randomBytes(9).toString("base64url")}`;
    const secret = newSecret();
    const { rows } = await this.pool.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, url, events, description, secret) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [id, input.url, input.events, input.description, secret],
    );
    return { ...view(rows[0]!), secret };
  }

  async list(): Promise<EndpointView[]> {
    const { rows } = await this.pool.query<EndpointRow>(`SELECT ${COLUMNS} FROM webhook_endpoints ORDER BY created_at, id`);
    return rows.map(view);
  }

  async find(id: string): Promise<EndpointView | undefined> {
    const { rows } = await this.pool.query<EndpointRow>(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : view(rows[0]);
  }

  /**
   * Enabling an endpoint tries its waiting deliveries at once, their failure clocks restarted,
   * so that they have the whole retry window again. Undefined: no such endpoint.
   */
  async update(id: string, change: EndpointChange, actor: string): Promise<EndpointView | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const sets = ["updated_at = now()"];
      const params: unknown[] = [id];
      if (change.url !== undefined) sets.push(`url = $${params.push(change.url)}`);
      if (change.events !== undefined) sets.push(`events = $${params.push(change.events)}`);
      if (change.description !== undefined) sets.push(`description = $${params.push(change.description)}`);
      if (change.enabled === true) sets.push("disabled_at = NULL, disabled_reason = NULL");
      if (change.enabled === false) {
        sets.push(`disabled_at = COALESCE(disabled_at, now()), disabled_reason = COALESCE(disabled_reason, $${params.push(`disabled by ${actor}`)})`);
      }
      const { rows } = await client.query<EndpointRow>(`UPDATE webhook_endpoints SET ${sets.join(", ")} WHERE id = $1 RETURNING ${COLUMNS}`, params);
      if (change.enabled === true && rows[0] !== undefined) {
        await client.query(
          "UPDATE webhook_deliveries SET next_attempt_at = now(), first_failed_at = NULL WHERE endpoint_id = $1 AND delivered_at IS NULL",
          [id],
        );
      }
      await client.query("COMMIT");
      client.release();
      return rows[0] === undefined ? undefined : view(rows[0]);
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  /** False: no such endpoint. Its deliveries go with it. */
  async delete(id: string): Promise<boolean> {
    return ((await this.pool.query("DELETE FROM webhook_endpoints WHERE id = $1", [id])).rowCount ?? 0) > 0;
  }

  /** A new secret; the current one keeps signing beside it for `graceSeconds`. Undefined: no such endpoint. */
  async rotateSecret(id: string, graceSeconds: number): Promise<{ endpoint: EndpointView; secret: string } | undefined> {
    const secret = newSecret();
    const { rows } = await this.pool.query<EndpointRow>(
      `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = now() + $3 * interval '1 second',
              secret = $2, updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, secret, graceSeconds],
    );
    return rows[0] === undefined ? undefined : { endpoint: view(rows[0]), secret };
  }

  /**
   * Sends again every event of the endpoint's types written since `since`, in their order,
   * delivered or not: each delivery is due at once. Answers how many.
   */
  async replay(id: string, since: Date): Promise<number> {
    const result = await this.pool.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_seq, order_id)
       SELECT e.id, ev.seq, ev.order_id FROM webhook_endpoints e
         JOIN webhook_events ev ON ev.type = ANY (e.events) AND ev.created_at >= $2
        WHERE e.id = $1
       ON CONFLICT (endpoint_id, event_seq) DO UPDATE
         SET delivered_at = NULL, next_attempt_at = now(), first_failed_at = NULL`,
      [id, since],
    );
    return result.rowCount ?? 0;
  }

  /** The endpoint's deliveries, newest event first, before the event `before` (its seq) when given. */
  async deliveries(id: string, q: { limit: number; before?: string; pending?: boolean }): Promise<{ deliveries: DeliveryView[]; next: string | null }> {
    const params: unknown[] = [id];
    const where = ["d.endpoint_id = $1"];
    if (q.before !== undefined) where.push(`d.event_seq < $${params.push(q.before)}`);
    if (q.pending === true) where.push("d.delivered_at IS NULL");
    if (q.pending === false) where.push("d.delivered_at IS NOT NULL");
    const { rows } = await this.pool.query<{
      seq: string;
      type: string;
      sale_id: string;
      order_id: string | null;
      created_at: Date;
      attempts: number;
      last_attempt_at: Date | null;
      last_status: number | null;
      last_error: string | null;
      next_attempt_at: Date;
      delivered_at: Date | null;
    }>(
      `SELECT ev.seq, ev.type, ev.sale_id, ev.order_id, ev.created_at, d.attempts, d.last_attempt_at, d.last_status,
              d.last_error, d.next_attempt_at, d.delivered_at
         FROM webhook_deliveries d JOIN webhook_events ev ON ev.seq = d.event_seq
        WHERE ${where.join(" AND ")}
        ORDER BY d.event_seq DESC LIMIT $${params.push(q.limit)}`,
      params,
    );
    const deliveries = rows.map((r) => ({
      eventId: webhookId(r.seq),
      type: r.type,
      saleId: r.sale_id,
      orderId: r.order_id,
      eventCreatedAt: r.created_at.toISOString(),
      attempts: r.attempts,
      lastAttemptAt: iso(r.last_attempt_at),
      lastStatus: r.last_status,
      lastError: r.last_error,
      nextAttemptAt: r.delivered_at === null ? r.next_attempt_at.toISOString() : null,
      deliveredAt: iso(r.delivered_at),
    }));
    return { deliveries, next: rows.length === q.limit ? rows[rows.length - 1]!.seq : null };
  }
}
