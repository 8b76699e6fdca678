import { parsePublishedSale } from "@flash-sale/contract/sale";
import { pickValues, PUBLISHED_NAMES, SETTING_NAMES, SETTINGS } from "../src/sales/fields";
import { publishedRecord } from "../src/projection/publisher";
import type { Sale } from "../src/store/sale-repository";
import { saleInputSchema } from "../src/sales/schema";

const schema = saleInputSchema({ limits: { userRatePerSecond: 2, userBurst: 3, admitPerSecond: 100 } });

/** A sale with every optional setting given. */
const sale: Sale = {
  id: "lamp",
  ...schema.parse({
    name: "Lamp",
    price: 100,
    stock: 10,
    startsAt: "2030-01-01T12:00:00Z",
    endsAt: "2030-01-01T12:10:00Z",
    deduction: "payment",
    paymentTimeoutSeconds: 300,
    limits: { openUnpaidOrders: 50 },
    waitingRoom: { opensBeforeSeconds: 600, admitPerSecond: 20, passSeconds: 120 },
  }),
  paused: false,
  publishedAt: "2029-06-01T00:00:00.000Z",
  publishedVersion: 3,
  epoch: 1,
  revision: 4,
  createdAt: "2029-01-01T00:00:00.000Z",
  updatedAt: "2029-01-01T00:00:00.000Z",
};

describe("the sale's settings", () => {
  it("are stored each in a column of its own", () => {
    const columns = SETTINGS.map((s) => s.column);
    expect(new Set(columns).size).toBe(columns.length);
  });

  it("copied from a stored sale, parse back to the same settings: a PATCH resets none of them", () => {
    expect(schema.parse({ id: sale.id, ...pickValues(sale, SETTING_NAMES) })).toEqual(pickValues(sale, ["id", ...SETTING_NAMES]));
  });

  it("that are published reach the gateway's parser whole", () => {
    const read = parsePublishedSale({ ...publishedRecord(sale), version: 1 });
    if (typeof read === "string") throw new Error(`the gateway refused ${read}`);
    expect(pickValues(read, PUBLISHED_NAMES)).toEqual(pickValues(sale, PUBLISHED_NAMES));
    expect(read).toMatchObject({ startsAtMs: Date.parse(sale.startsAt), endsAtMs: Date.parse(sale.endsAt), paused: false });
  });

  it("leave out an absent optional setting everywhere", () => {
    const without: Sale = { ...sale, waitingRoom: undefined };
    expect(pickValues(without, SETTING_NAMES)).not.toHaveProperty("waitingRoom");
    expect(JSON.parse(JSON.stringify(publishedRecord(without)))).not.toHaveProperty("waitingRoom");
  });
});
