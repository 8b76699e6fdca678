import { actionRefusal, endNow, hasStarted, saleState, startedSaleRefusals } from "../src/sales/lifecycle";
import { mergePatch } from "../src/sales/merge-patch";
import type { Sale } from "../src/store/sale-repository";
import { saleInputSchema } from "../src/sales/schema";

const START = Date.parse("2030-01-01T12:00:00Z");
const END = Date.parse("2030-01-01T12:10:00Z");

const sale: Sale = {
  id: "lamp",
  name: "Lamp",
  price: 100,
  currency: "USD",
  stock: 10,
  startsAt: new Date(START).toISOString(),
  endsAt: new Date(END).toISOString(),
  perUserLimit: 1,
  deduction: "order",
  stockBuckets: 1,
  challenge: false,
  limits: { userRatePerSecond: 1, userBurst: 1, admitPerSecond: 1 },
  paused: false,
  publishedAt: "2029-06-01T00:00:00.000Z",
  publishedVersion: 3,
  epoch: 1,
  revision: 1,
  createdAt: "2029-01-01T00:00:00.000Z",
  updatedAt: "2029-01-01T00:00:00.000Z",
};

describe("saleState", () => {
  it.each([
    ["scheduled", START - 1, {}],
    ["active", START, {}],
    ["paused", START + 1, { paused: true }],
    ["ended", END, {}],
    ["ended", END, { paused: true }],
    ["scheduled", START - 1, { paused: true }],
    ["draft", END + 1, { publishedAt: null }],
  ] as const)("is %s at %d with %j", (state, now, changes) => {
    expect(saleState({ ...sale, ...changes }, now)).toBe(state);
  });

  it("counts paused and ended sales as started, drafts and scheduled ones not", () => {
    expect(["draft", "scheduled", "active", "paused", "ended"].filter((s) => hasStarted(s as never))).toEqual([
      "active",
      "paused",
      "ended",
    ]);
  });
});

describe("actionRefusal", () => {
  it("deletes only what has not started", () => {
    expect(actionRefusal("delete", "scheduled")).toBeUndefined();
    expect(actionRefusal("delete", "draft")).toBeUndefined();
    for (const state of ["active", "paused", "ended"] as const) expect(actionRefusal("delete", state)).toMatch(/end it instead/);
  });

  it("changes nothing of an ended sale, but ending it again is no error", () => {
    for (const action of ["update", "pause", "resume"] as const) expect(actionRefusal(action, "ended")).toMatch(/has ended/);
    expect(actionRefusal("end", "ended")).toBeUndefined();
  });

  it("ends only a started sale", () => {
    expect(actionRefusal("end", "scheduled")).toMatch(/delete it instead/);
    expect(actionRefusal("end", "active")).toBeUndefined();
    expect(actionRefusal("end", "paused")).toBeUndefined();
  });
});

describe("startedSaleRefusals", () => {
  const schema = saleInputSchema({ limits: sale.limits });
  const { name, price, stock, startsAt, endsAt, deduction, limits } = sale;
  const settings = schema.parse({ name, price, stock, startsAt, endsAt, deduction, limits });

  it("lets the end, the stock, the price and the name change", () => {
    expect(startedSaleRefusals(sale, { ...settings, endsAt: "2030-01-01T13:00:00.000Z", stock: 50, price: 1, name: "x" })).toEqual([]);
  });

  it("refuses to move the start or change the deduction, each with its message", () => {
    expect(startedSaleRefusals(sale, { ...settings, startsAt: "2030-01-01T11:00:00.000Z", deduction: "reserve" })).toEqual([
      { path: "startsAt", message: "cannot move: the sale started at 2030-01-01T12:00:00.000Z" },
      { path: "deduction", message: 'cannot change once the sale has started (it is "order")' },
    ]);
  });
});

describe("endNow", () => {
  it("is now, but always after the start", () => {
    expect(endNow(sale, START + 5000).getTime()).toBe(START + 5000);
    expect(endNow(sale, START).getTime()).toBe(START + 1);
  });
});

describe("mergePatch (RFC 7396)", () => {
  it("replaces members, merges objects, removes nulls", () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: 4 }, { a: 9, b: { d: null, f: 5 }, e: null })).toEqual({
      a: 9,
      b: { c: 2, f: 5 },
    });
  });

  it("replaces arrays and scalars whole", () => {
    expect(mergePatch({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
    expect(mergePatch({ a: 1 }, "x")).toBe("x");
  });

  it("keeps a __proto__ member a plain member", () => {
    const merged = mergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as object;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(["__proto__"]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
