import { fieldChanges } from "../ui/src/audit-diff";

const sale = {
  id: "lamp",
  name: "Lamp",
  price: 100,
  endsAt: "2030-01-01T13:00:00.000Z",
  limits: { userBurst: 5, admitPerSecond: 100 },
  publishedVersion: null,
  revision: 3,
  updatedAt: "2030-01-01T11:00:00.000Z",
};

describe("fieldChanges", () => {
  it("lists the changed fields only, nested ones by dotted path, without the record's bookkeeping", () => {
    const after = { ...sale, price: 90, limits: { userBurst: 5, admitPerSecond: 50, openUnpaidOrders: 10 }, revision: 4, updatedAt: "2030-01-01T11:05:00.000Z" };
    expect(fieldChanges(sale, after)).toEqual([
      { path: "price", before: 100, after: 90 },
      { path: "limits.admitPerSecond", before: 100, after: 50 },
      { path: "limits.openUnpaidOrders", before: undefined, after: 10 },
    ]);
  });

  it("shows a create as its set fields, null ones left out, and a delete the other way round", () => {
    expect(fieldChanges(null, sale).map((c) => c.path)).toEqual(["id", "name", "price", "endsAt", "limits.userBurst", "limits.admitPerSecond"]);
    expect(fieldChanges(sale, null).every((c) => c.after === undefined)).toBe(true);
  });

  it("finds nothing changed in an unchanged record", () => {
    expect(fieldChanges(sale, { ...sale, revision: 4 })).toEqual([]);
  });
});
