/**
 * The order stream entry: the purchase script writes these fields (by the same names,
 * in redis-scripts/purchase.lua) and the order worker reads them.
 */
export const ORDER_FIELDS = {
  orderId: "order",
  saleId: "sale",
  userId: "user",
  quantity: "qty",
  /** The user's running unit count after this order: unique per (sale, user). */
  userUnits: "uunits",
  acceptedAtMs: "at",
  requestId: "rid",
} as const;

/** Order statuses visible through GET /api/orders/{id}. */
export type OrderStatus = "pending" | "confirmed" | "paid" | "expired" | "failed";
