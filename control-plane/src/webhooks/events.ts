/** The events a webhook endpoint may subscribe to (docs/webhooks.md). */
export const EVENT_TYPES = [
  "order.confirmed",
  "order.paid",
  "order.expired",
  "order.failed",
  "sale.started",
  "sale.sold_out",
  "sale.ended",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The webhook-id of an event: stable across its attempts and replays (the receiver's idempotency key). */
export function webhookId(seq: string): string {
  return `evt_${seq}`;
}

/** The body of an event's deliveries, the Standard Webhooks payload shape. */
export function eventBody(type: string, createdAt: Date, data: unknown): string {
  return JSON.stringify({ type, timestamp: createdAt.toISOString(), data });
}
