/**
 * A sale's events, written to the webhook outbox by the dispatcher that holds the fan-out lock,
 * each once per sale (UNIQUE (type, subject)), in the order they happen:
 * - sale.started: a published sale whose start time has passed;
 * - sale.sold_out: the units its orders in Postgres take (confirmed and paid; paid only for a
 *   `payment` sale) reach its stock, judged until a minute after its end (the drain's last
 *   orders); once, even where expiries give units back later;
 * - sale.ended: its end time has passed (an admin's end sets it to now).
 */
import type { PoolClient } from "@flash-sale/node-common";

/** How long after its end a sale's orders may still be drained into Postgres and sell it out. */
const SOLD_OUT_AFTER_END = "1 minute";

const DATA = `jsonb_build_object('saleId', s.id, 'name', s.name, 'price', s.price, 'currency', s.currency, 'stock', s.stock,
  'startsAt', to_char(s.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'endsAt', to_char(s.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;

function insertSaleEvents(type: string, condition: string): string {
  return `
INSERT INTO webhook_events (type, subject, sale_id, data)
SELECT '${type}', s.id, s.id, ${DATA} FROM sales s
 WHERE s.published_at IS NOT NULL AND ${condition}
   AND NOT EXISTS (SELECT 1 FROM webhook_events ev WHERE ev.type = '${type}' AND ev.subject = s.id)
 ORDER BY s.id
ON CONFLICT (type, subject) DO NOTHING`;
}

const STARTED = insertSaleEvents("sale.started", "s.starts_at <= now()");
const SOLD_OUT = insertSaleEvents(
  "sale.sold_out",
  `s.starts_at <= now() AND s.ends_at > now() - interval '${SOLD_OUT_AFTER_END}'
   AND (SELECT COALESCE(sum(o.quantity), 0) FROM orders o
         WHERE o.sale_id = s.id
           AND o.status = ANY (CASE WHEN s.deduction = 'payment' THEN ARRAY['paid'] ELSE ARRAY['pending', 'confirmed', 'paid'] END)) >= s.stock`,
);
const ENDED = insertSaleEvents("sale.ended", "s.ends_at <= now()");

/** Writes the sale events due now; answers how many. */
export async function writeSaleEvents(db: PoolClient): Promise<number> {
  let written = 0;
  for (const sql of [STARTED, SOLD_OUT, ENDED]) written += (await db.query(sql)).rowCount ?? 0;
  return written;
}
