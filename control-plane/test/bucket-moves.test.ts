import { planMoves } from "../src/projection/bucket-rebalancer";

const b = (stock: number, wants = 0) => ({ stock, wants, shared: true });

test("nothing moves while no bucket turns shoppers away", () => {
  expect(planMoves([b(0), b(5), b(5)], 1)).toEqual([]);
  expect(planMoves([b(3, 4), b(5), b(5)], 2)).toEqual([]);
});

test("a bucket whose shoppers were refused gets units until all hold an even share", () => {
  expect(planMoves([b(0, 7), b(5), b(4)], 1)).toEqual([
    { from: 1, to: 0, units: 2 },
    { from: 2, to: 0, units: 1 },
  ]);
});

test("too few units for every bucket: they go to the buckets where shoppers wait", () => {
  expect(planMoves([b(0, 3), b(1), b(1, 0)], 1)).toEqual([{ from: 1, to: 0, units: 1 }, { from: 2, to: 0, units: 1 }]);
  expect(planMoves([b(0, 3), b(0, 1), b(1)], 1)).toEqual([{ from: 2, to: 0, units: 1 }]);
});

test("units moved never exceed what the sources hold", () => {
  const buckets = [b(0, 9), b(1, 2), b(7), b(0, 1)];
  const moves = planMoves(buckets, 2);
  for (const [i, bucket] of buckets.entries()) {
    const out = moves.filter((m) => m.from === i).reduce((n, m) => n + m.units, 0);
    expect(out).toBeLessThanOrEqual(bucket.stock);
  }
  expect(moves.reduce((n, m) => n + m.units, 0)).toBeGreaterThan(0);
});
