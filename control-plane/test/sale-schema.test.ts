import { saleInputSchema } from "../src/sales/schema";
import { saleIdsFromName } from "../src/sales/sale-id";
import { isValidSaleId } from "@flash-sale/contract/ids";

const schema = saleInputSchema({ limits: { userRatePerSecond: 2, userBurst: 3, admitPerSecond: 100 } });
const minimal = {
  name: "Lunar Lamp",
  price: 0,
  stock: 1,
  startsAt: "2030-01-01T20:00:00+08:00",
  endsAt: "2030-01-01T12:10:00Z",
  deduction: "order",
};

describe("saleInputSchema", () => {
  it("fills every default and normalises instants to UTC", () => {
    expect(schema.parse(minimal)).toEqual({
      name: "Lunar Lamp",
      price: 0,
      currency: "USD",
      stock: 1,
      startsAt: "2030-01-01T12:00:00.000Z",
      endsAt: "2030-01-01T12:10:00.000Z",
      perUserLimit: 1,
      deduction: "order",
      challenge: false,
      limits: { userRatePerSecond: 2, userBurst: 3, admitPerSecond: 100 },
      stockBuckets: 1,
    });
  });

  it("takes stock buckets from 1 to 16 for deduction order without a waiting room, and says why not otherwise", () => {
    expect(schema.parse({ ...minimal, stockBuckets: 3 }).stockBuckets).toBe(3);
    const issues = (input: object) => schema.safeParse({ ...minimal, ...input }).error?.issues.map((i) => [i.path.join("."), i.message]);
    expect(issues({ stockBuckets: 0 })).toEqual([["stockBuckets", "must be a whole number from 1 to 16"]]);
    expect(issues({ stockBuckets: 17 })).toEqual([["stockBuckets", "must be a whole number from 1 to 16"]]);
    expect(issues({ stockBuckets: 2.5 })).toEqual([["stockBuckets", "must be a whole number from 1 to 16"]]);
    expect(issues({ stockBuckets: 2, deduction: "reserve", paymentTimeoutSeconds: 60 })).toEqual([["stockBuckets", 'above 1 only applies to deduction "order"']]);
    expect(issues({ stockBuckets: 2, waitingRoom: { opensBeforeSeconds: 60, admitPerSecond: 10, passSeconds: 30 } })).toEqual([["stockBuckets", "above 1 does not go with a waiting room"]]);
  });

  it("keeps the limits it is given and defaults the others", () => {
    expect(schema.parse({ ...minimal, limits: { admitPerSecond: 0.5 } }).limits).toEqual({
      userRatePerSecond: 2,
      userBurst: 3,
      admitPerSecond: 0.5,
    });
  });

  it("takes deduction payment with a payment timeout and a bound on open unpaid orders", () => {
    const sale = schema.parse({ ...minimal, deduction: "payment", paymentTimeoutSeconds: 600, limits: { openUnpaidOrders: 150 } });
    expect(sale.limits).toEqual({ userRatePerSecond: 2, userBurst: 3, admitPerSecond: 100, openUnpaidOrders: 150 });
  });

  it.each([
    ["deduction payment without the bound", { deduction: "payment", paymentTimeoutSeconds: 600 }],
    ["the bound with deduction reserve", { deduction: "reserve", paymentTimeoutSeconds: 600, limits: { openUnpaidOrders: 5 } }],
  ])("refuses %s at limits.openUnpaidOrders", (_what, change) => {
    const result = schema.safeParse({ ...minimal, ...change });
    expect(result.error?.issues.map((i) => i.path.join("."))).toEqual(["limits.openUnpaidOrders"]);
  });

  it.each([1e-300, 0.009])("refuses a rate of %p attempts per second (its Retry-After would be days)", (rate) => {
    const result = schema.safeParse({ ...minimal, limits: { userRatePerSecond: rate, admitPerSecond: rate } });
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["limits.userRatePerSecond", "must be a number of attempts per second, at least 0.01"],
      ["limits.admitPerSecond", "must be a number of attempts per second, at least 0.01"],
    ]);
  });

  it.each(["Lamp\u0000", "Lu\u0000nar", "Lunar\tLamp", "Lunar\nLamp", "Lunar\u007fLamp", "Lunar\u0085Lamp"])("refuses the name %j: control characters", (name) => {
    const result = schema.safeParse({ ...minimal, name });
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["name", "must not contain control characters (such as NUL, tab or line breaks)"],
    ]);
  });

  it("takes names in any script, trimmed of surrounding spaces", () => {
    expect(schema.parse({ ...minimal, name: "  秒杀 Crème — 50 % off 🎉 " }).name).toBe("秒杀 Crème — 50 % off 🎉");
  });

  it("takes a waiting room, and names each bad member of one", () => {
    const room = { opensBeforeSeconds: 600, admitPerSecond: 50, passSeconds: 60 };
    expect(schema.parse({ ...minimal, waitingRoom: room }).waitingRoom).toEqual(room);
    expect(schema.parse(minimal).waitingRoom).toBeUndefined();
    const unknown = schema.safeParse({ ...minimal, waitingRoom: { ...room, extra: 1 } });
    expect(unknown.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["waitingRoom", "is not a known field"]]);
    const members = schema.safeParse({ ...minimal, waitingRoom: { opensBeforeSeconds: -1, admitPerSecond: 0.001, passSeconds: 3601 } });
    expect(members.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["waitingRoom.opensBeforeSeconds", "must be a whole number of seconds, 0 or more"],
      ["waitingRoom.admitPerSecond", "must be a number of attempts per second, at least 0.01"],
      ["waitingRoom.passSeconds", "must be at most 3600 seconds"],
    ]);
    expect(schema.safeParse({ ...minimal, waitingRoom: { admitPerSecond: 5, passSeconds: 60 } }).error?.issues[0]?.message).toBe("is required");
  });

  it("checks endsAt against startsAt alongside other fields' issues", () => {
    const result = schema.safeParse({ ...minimal, price: -1, endsAt: "2030-01-01T11:00:00Z" });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toEqual(["price", "endsAt"]);
  });
});

describe("saleIdsFromName", () => {
  it.each([
    ["Lunar Lamp", "lunar-lamp"],
    ["  Crème Brûlée -- Day! ", "creme-brulee-day"],
    ["-Sale 2030-", "sale-2030"],
    ["x".repeat(70) + " tail", "x".repeat(64)],
    ["a".repeat(63) + " b", "a".repeat(63)],
  ])("makes %j into %j first", (name, id) => {
    expect(saleIdsFromName(name, 1)).toEqual([id]);
  });

  it("then tries the slug with random suffixes, every one a valid id", () => {
    const ids = saleIdsFromName("x".repeat(70), 3);
    expect(ids[0]).toBe("x".repeat(64));
    for (const id of ids.slice(1)) expect(id).toMatch(/^x{57}-[0-9a-f]{6}$/);
    expect(new Set(ids).size).toBe(3);
    expect(ids.every(isValidSaleId)).toBe(true);
  });

  it("makes valid ids of a name without ASCII letters or digits", () => {
    const ids = saleIdsFromName("秒杀", 2);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^sale-[0-9a-f]{6}$/);
    expect(ids.every(isValidSaleId)).toBe(true);
  });
});
