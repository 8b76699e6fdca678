import { parseOrderEntry } from "../src/order-entry";
import type { RawEntry } from "../src/raw-entry";

const entry = (fields: string[]): RawEntry => ({ saleId: "spring", source: "orders", id: "1764633600123-0", fields });
const accepted = ["order", "spring.2.7", "sale", "spring", "user", "alice", "qty", "2", "uunits", "2", "at", "1764633600123", "rid", "r-1"];

test("an order the purchase script writes keeps the price and currency it was accepted at", () => {
  const parsed = parseOrderEntry(entry([...accepted, "price", "5999", "cur", "EUR"]));
  expect(parsed).toMatchObject({ ok: true, row: { orderId: "spring.2.7", quantity: 2, price: 5999, currency: "EUR" } });
  expect(parseOrderEntry(entry([...accepted, "price", "0", "cur", "USD"]))).toMatchObject({ ok: true, row: { price: 0, currency: "USD" } });
});

test("an entry written before orders carried their price has none: the insert takes its sale's", () => {
  expect(parseOrderEntry(entry(accepted))).toMatchObject({ ok: true, row: { price: null, currency: null } });
});

test.each([
  ["a price without a currency", ["price", "100"], "price without cur"],
  ["a currency without a price", ["cur", "USD"], "price without cur"],
  ["a negative price", ["price", "-1", "cur", "USD"], "bad price"],
  ["a price with a point", ["price", "1.5", "cur", "USD"], "bad price"],
  ["a price with a leading zero", ["price", "0100", "cur", "USD"], "bad price"],
  ["a currency in lowercase", ["price", "100", "cur", "usd"], "bad cur"],
  ["a currency with a tab", ["price", "100", "cur", "US\t"], "bad cur"],
])("refused: %s", (_, priced, reason) => {
  const parsed = parseOrderEntry(entry([...accepted, ...priced]));
  expect(parsed).toEqual({ ok: false, reason: expect.stringContaining(reason) });
});
