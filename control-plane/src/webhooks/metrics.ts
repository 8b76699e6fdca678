/**
 * The webhook dispatcher's metrics, on the control plane's registry: deliveries and failures by
 * endpoint, the lag from an event's write to its delivery, and, read from Postgres at each
 * scrape, the endpoints disabled and the age of each endpoint's oldest undelivered event.
 */
import { Counter, Gauge, Histogram, type Pool, type Registry } from "@flash-sale/node-common";

export class WebhookMetrics {
  readonly delivered: Counter<"endpoint">;
  readonly failed: Counter<"endpoint">;
  readonly disablements: Counter<"endpoint">;
  readonly lag: Histogram<"endpoint">;

  constructor(registry: Registry, pool: Pool) {
    const registers = [registry];
    this.delivered = new Counter({ name: "fs_webhook_deliveries_total", help: "Events delivered (answered 2xx), by endpoint.", labelNames: ["endpoint"], registers });
    this.failed = new Counter({
      name: "fs_webhook_delivery_failures_total",
      help: "Delivery attempts that failed (no answer in time, refused, or not 2xx), by endpoint; each is retried with backoff.",
      labelNames: ["endpoint"],
      registers,
    });
    this.disablements = new Counter({
      name: "fs_webhook_endpoint_disablements_total",
      help: "Times an endpoint was disabled after failing for the retry window (FS_WEBHOOK_RETRY_FOR_SECONDS).",
      labelNames: ["endpoint"],
      registers,
    });
    this.lag = new Histogram({
      name: "fs_webhook_delivery_lag_seconds",
      help: "From an event's write to the outbox to its delivery, by endpoint (a replay counts from the event's write too).",
      labelNames: ["endpoint"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400],
      registers,
    });
    new Gauge({
      name: "fs_webhook_endpoint_disabled",
      help: "1 for an endpoint disabled (after failing for the retry window, or by an admin): its events wait, kept, until it is enabled.",
      labelNames: ["endpoint"],
      registers,
      async collect() {
        this.reset();
        const { rows } = await pool.query<{ id: string; disabled: boolean }>("SELECT id, disabled_at IS NOT NULL AS disabled FROM webhook_endpoints");
        for (const r of rows) this.set({ endpoint: r.id }, r.disabled ? 1 : 0);
      },
    });
    new Gauge({
      name: "fs_webhook_oldest_undelivered_seconds",
      help: "Age of the endpoint's oldest event not yet delivered (0: none waiting): the delivery lag of its backlog.",
      labelNames: ["endpoint"],
      registers,
      async collect() {
        this.reset();
        const { rows } = await pool.query<{ id: string; age: number }>(
          `SELECT e.id, COALESCE(extract(epoch FROM now() - min(ev.created_at)), 0)::float8 AS age
             FROM webhook_endpoints e
             LEFT JOIN webhook_deliveries d ON d.endpoint_id = e.id AND d.delivered_at IS NULL
             LEFT JOIN webhook_events ev ON ev.seq = d.event_seq
            GROUP BY e.id`,
        );
        for (const r of rows) this.set({ endpoint: r.id }, r.age);
      },
    });
  }
}
