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
  /** Price per unit (minor units) and currency the order was accepted at; absent in entries written before orders carried them. */
  price: "price",
  currency: "cur",
} as const;

/**
 * The status change entry (stream `statusChanges` of keys.ts): the pay and expiry scripts write
 * these fields (redis-scripts/pay-order.lua, control-plane/redis-scripts/expire-reservations.lua)
 * and the order worker reads them. The order id is `<sale>.<epoch>.<n>`; the user guards against
 * setting the status on another order that holds the id in Postgres.
 */
export const STATUS_FIELDS = {
  orderNo: "n",
  epoch: "epoch",
  userId: "user",
  status: "status",
} as const;

/** The statuses a status change entry sets: each order gets at most one of them, ever. */
export type StatusChange = "paid" | "expired" | "failed";

/** Order statuses visible through GET /api/orders/{id}. */
export type OrderStatus = "pending" | "confirmed" | "paid" | "expired" | "failed";
