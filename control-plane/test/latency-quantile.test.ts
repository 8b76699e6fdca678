import { histogramQuantileMs } from "../src/store/sale-report";

// 50 answers within 1 ms, 40 more within 2 ms, 10 more within 5 ms.
const HISTOGRAM = { "0.001": 50, "0.002": 90, "0.005": 100, "0.01": 100, "+Inf": 100 };

test("a quantile is interpolated within the bucket its rank falls in, as histogram_quantile() does", () => {
  expect(histogramQuantileMs(HISTOGRAM, 0.5)).toBeCloseTo(1, 9);
  expect(histogramQuantileMs(HISTOGRAM, 0.25)).toBeCloseTo(0.5, 9);
  expect(histogramQuantileMs(HISTOGRAM, 0.95)).toBeCloseTo(3.5, 9);
  expect(histogramQuantileMs(HISTOGRAM, 0.99)).toBeCloseTo(4.7, 9);
});

test("the bounds' order in the object does not matter; a rank in +Inf answers the largest finite bound", () => {
  const shuffled = { "+Inf": 100, "0.005": 100, "0.001": 50, "0.01": 100, "0.002": 90 };
  expect(histogramQuantileMs(shuffled, 0.95)).toBeCloseTo(3.5, 9);
  expect(histogramQuantileMs({ "0.001": 1, "0.01": 2, "+Inf": 10 }, 0.99)).toBeCloseTo(10, 9);
});

test("an empty histogram has no quantile", () => {
  expect(histogramQuantileMs({}, 0.5)).toBeUndefined();
  expect(histogramQuantileMs({ "0.001": 0, "+Inf": 0 }, 0.5)).toBeUndefined();
});
