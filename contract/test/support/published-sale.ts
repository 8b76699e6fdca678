import type { PublishedSale } from "../../src/sale";

/** A well-formed published sale (open from 1000 to 2000 ms), read by the sale tests here and by tests/core-parity. */
export const PUBLISHED_SALE: PublishedSale = {
  id: "s1",
  name: "Sale",
  price: 100,
  currency: "USD",
  stock: 10,
  startsAt: "2030-01-01T00:00:00.000Z",
  endsAt: "2030-01-01T01:00:00.000Z",
  startsAtMs: 1000,
  endsAtMs: 2000,
  perUserLimit: 1,
  deduction: "order",
  stockBuckets: 1,
  challenge: false,
  paused: false,
  limits: { userRatePerSecond: 5, userBurst: 5, admitPerSecond: 100 },
  version: 3,
};
