/**
 * The webhook outbox is pruned: an order's event older than the retention whose deliveries are
 * all delivered (or that no endpoint took) goes, with its deliveries; one still waiting for an
 * endpoint (retried, or the endpoint disabled), not yet fanned out, younger than the retention,
 * or a sale's event stays. Two control planes pruning at once split the work, in batches, and
 * an event another transaction holds is skipped, not waited for. Its own database.
 */
import { createLogger, readEnv } from "@flash-sale/node-common";
import { pruneWebhookOutboxJob } from "../control-plane/src/jobs/prune-webhook-outbox";
import { pruneWebhookOutbox } from "../control-plane/src/webhooks/prune";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";

const DAY_MS = 86_400_000;
const RETENTION_MS = 7 * DAY_MS;
const BULK = 1200;

const stack = useStack(new TestStack({ name: "webhooks_pruning", gateway: false, controlPlane: false }));

/** An event `daysOld` days old; its deliveries to `delivered` endpoints done, to `waiting` ones not. */
async function event(subject: string, daysOld: number, opts: { delivered?: string[]; waiting?: string[]; fannedOut?: boolean; sale?: boolean } = {}): Promise<string> {
  const { rows } = await stack.db.pool.query<{ seq: string }>(
    `INSERT INTO webhook_events (type, subject, sale_id, order_id, data, created_at, fanned_out)
     VALUES ($1, $2, 'sale-1', $3, '{}', now() - $4 * interval '1 day', $5) RETURNING seq`,
    [opts.sale ? "sale.started" : "order.confirmed", subject, opts.sale ? null : subject, daysOld, opts.fannedOut ?? true],
  );
  const seq = rows[0]!.seq;
  for (const [endpoints, delivered] of [[opts.delivered ?? [], true], [opts.waiting ?? [], false]] as const) {
    for (const ep of endpoints) {
      await stack.db.pool.query(
        "INSERT INTO webhook_deliveries (endpoint_id, event_seq, order_id, attempts, delivered_at) VALUES ($1, $2, $3, 1, CASE WHEN $4 THEN now() END)",
        [ep, seq, opts.sale ? null : subject, delivered],
      );
    }
  }
  return seq;
}

async function subjects(): Promise<string[]> {
  return (await stack.db.pool.query<{ subject: string }>("SELECT subject FROM webhook_events ORDER BY subject")).rows.map((r) => r.subject);
}

test("FS_WEBHOOK_RETENTION_DAYS: 7 by default, fractions allowed, zero refused", () => {
  const read = (v?: string) => readEnv(["FS_WEBHOOK_RETENTION_DAYS"], v === undefined ? {} : { FS_WEBHOOK_RETENTION_DAYS: v }).FS_WEBHOOK_RETENTION_DAYS;
  expect(read()).toBe(7);
  expect(read("0.5")).toBe(0.5);
  expect(() => read("0")).toThrow(/FS_WEBHOOK_RETENTION_DAYS/);
});

test("delivered events past the retention go, with their deliveries, in batches split between two control planes; waiting, young, unfanned, sale and locked ones stay", async () => {
  await stack.db.pool.query(
    `INSERT INTO webhook_endpoints (id, url, events, secret, disabled_at) VALUES
       ('ep_a', 'https://a.example/h', '{order.confirmed,sale.started}', 'whsec_a', NULL),
       ('ep_b', 'https://b.example/h', '{order.confirmed}', 'whsec_b', NULL),
       ('ep_off', 'https://off.example/h', '{order.confirmed}', 'whsec_off', now())`,
  );
  await stack.db.pool.query(
    `WITH ev AS (
       INSERT INTO webhook_events (type, subject, sale_id, order_id, data, created_at, fanned_out)
       SELECT 'order.confirmed', 'bulk-' || lpad(i::text, 4, '0'), 'sale-1', 'bulk-' || i, '{}', now() - interval '8 days', true
         FROM generate_series(1, ${BULK}) i
       RETURNING seq, order_id)
     INSERT INTO webhook_deliveries (endpoint_id, event_seq, order_id, attempts, delivered_at)
     SELECT ep, seq, order_id, 1, now() - interval '8 days' FROM ev, unnest(ARRAY['ep_a', 'ep_b']) ep`,
  );
  await event("gone-nobody-took-it", 8);
  await event("kept-waiting-for-b", 8, { delivered: ["ep_a"], waiting: ["ep_b"] });
  await event("kept-endpoint-disabled", 30, { waiting: ["ep_off"] });
  await event("kept-not-fanned-out", 8, { fannedOut: false });
  await event("kept-young", 6.9, { delivered: ["ep_a", "ep_b"] });
  await event("kept-sale-event", 8, { delivered: ["ep_a"], sale: true });
  const lockedSeq = await event("locked", 8, { delivered: ["ep_a"] });

  // A transaction holding an event (a replay adding a delivery to it) is not waited for.
  const holder = await stack.db.pool.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("SELECT seq FROM webhook_events WHERE seq = $1 FOR KEY SHARE", [lockedSeq]);
    const [one, two] = await Promise.all([pruneWebhookOutbox(stack.db.pool, RETENTION_MS, 100), pruneWebhookOutbox(stack.db.pool, RETENTION_MS, 100)]);
    expect(one.events + two.events).toBe(BULK + 1);
    expect(one.batches + two.batches).toBeGreaterThanOrEqual(Math.ceil((BULK + 1) / 100));
    expect(await subjects()).toEqual(["kept-endpoint-disabled", "kept-not-fanned-out", "kept-sale-event", "kept-waiting-for-b", "kept-young", "locked"]);
  } finally {
    await holder.query("COMMIT");
    holder.release();
  }
  const { rows: deliveries } = await stack.db.pool.query<{ subject: string; endpoint_id: string }>(
    "SELECT ev.subject, d.endpoint_id FROM webhook_deliveries d JOIN webhook_events ev ON ev.seq = d.event_seq ORDER BY 1, 2",
  );
  const { rows: orphans } = await stack.db.pool.query("SELECT 1 FROM webhook_deliveries d WHERE NOT EXISTS (SELECT 1 FROM webhook_events ev WHERE ev.seq = d.event_seq)");
  expect(orphans).toEqual([]);
  expect(deliveries.map((d) => `${d.subject} ${d.endpoint_id}`)).toEqual([
    "kept-endpoint-disabled ep_off",
    "kept-sale-event ep_a",
    "kept-waiting-for-b ep_a",
    "kept-waiting-for-b ep_b",
    "kept-young ep_a",
    "kept-young ep_b",
    "locked ep_a",
  ]);

  // The control plane's job, once the holder is gone; then the delivery that waited is made.
  const job = pruneWebhookOutboxJob({ pool: stack.db.pool, retentionMs: RETENTION_MS, logger: createLogger("webhooks-pruning-test", "silent") }, "30 * * * * *", 5000);
  await job.run();
  expect(await subjects()).not.toContain("locked");
  await stack.db.pool.query("UPDATE webhook_deliveries SET delivered_at = now() WHERE endpoint_id = 'ep_b'");
  await job.run();
  expect(await subjects()).toEqual(["kept-endpoint-disabled", "kept-not-fanned-out", "kept-sale-event", "kept-young"]);
});
