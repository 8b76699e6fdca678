import { parsePublishedSale, publicSaleStatus, saleWindowAt, type PublishedSale } from "../src/sale";
import { PUBLISHED_SALE as sale } from "./support/published-sale";

test("a published record parses to itself", () => {
  expect(parsePublishedSale(JSON.parse(JSON.stringify(sale)))).toEqual(sale);
});

test.each([
  ["id", { id: "Bad" }],
  ["price", { price: -1 }],
  ["price", { price: 1.5 }],
  ["stock", { stock: "10" }],
  ["endsAtMs", { endsAtMs: 1000 }],
  ["perUserLimit", { perUserLimit: 0 }],
  ["deduction", { deduction: "later" }],
  ["challenge", { challenge: 0 }],
  ["limits", { limits: { userRatePerSecond: 0, userBurst: 1, admitPerSecond: 1 } }],
  ["version", { version: 0 }],
])("a bad %s is named", (field, change) => {
  expect(parsePublishedSale({ ...sale, ...change })).toBe(field);
});

test("a payment sale's record parses to itself, with its bound on open unpaid orders", () => {
  const paymentSale: PublishedSale = { ...sale, deduction: "payment", paymentTimeoutSeconds: 60, limits: { ...sale.limits, openUnpaidOrders: 150 } };
  expect(parsePublishedSale(JSON.parse(JSON.stringify(paymentSale)))).toEqual(paymentSale);
});

test.each([
  ["without the bound", { deduction: "payment" }],
  ["with a bound of 0", { deduction: "payment", limits: { ...sale.limits, openUnpaidOrders: 0 } }],
])("a payment sale %s names limits", (_what, change) => {
  expect(parsePublishedSale({ ...sale, ...change })).toBe("limits");
});

test("not an object", () => {
  expect(parsePublishedSale(null)).toBe("record is not an object");
  expect(parsePublishedSale("x")).toBe("record is not an object");
});

test("the window by the clock: start inclusive, end exclusive", () => {
  expect(saleWindowAt(sale, 999)).toBe("upcoming");
  expect(saleWindowAt(sale, 1000)).toBe("open");
  expect(saleWindowAt(sale, 1999)).toBe("open");
  expect(saleWindowAt(sale, 2000)).toBe("ended");
  expect(saleWindowAt({ ...sale, paused: true }, 1500)).toBe("paused");
});

test("public status", () => {
  expect(publicSaleStatus(sale, 500, true)).toBe("upcoming");
  expect(publicSaleStatus(sale, 1500, false)).toBe("active");
  expect(publicSaleStatus(sale, 1500, true)).toBe("sold_out");
  expect(publicSaleStatus(sale, 2500, true)).toBe("ended");
});

test("a sale with a waiting room parses to itself; a bad waiting room is named", () => {
  const roomSale: PublishedSale = { ...sale, waitingRoom: { opensBeforeSeconds: 0, admitPerSecond: 0.5, passSeconds: 30 } };
  expect(parsePublishedSale(JSON.parse(JSON.stringify(roomSale)))).toEqual(roomSale);
  for (const waitingRoom of [null, {}, { opensBeforeSeconds: -1, admitPerSecond: 1, passSeconds: 1 }, { opensBeforeSeconds: 0, admitPerSecond: 0, passSeconds: 1 }, { opensBeforeSeconds: 0, admitPerSecond: 1, passSeconds: 0.5 }]) {
    expect(parsePublishedSale({ ...sale, waitingRoom })).toBe("waitingRoom");
  }
});
