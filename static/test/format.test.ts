import { announcementStep, countdownInWords, formatCountdown, formatOrderPrice, formatPrice, formatTime } from "../src/format";

test("the countdown's face rounds up to whole seconds and grows hours and days only when needed", () => {
  expect(formatCountdown(0)).toBe("00:00");
  expect(formatCountdown(-5000)).toBe("00:00");
  expect(formatCountdown(1)).toBe("00:01");
  expect(formatCountdown(59_001)).toBe("01:00");
  expect(formatCountdown(3_600_000)).toBe("01:00:00");
  expect(formatCountdown(90_061_000)).toBe("1 d 01:01:01");
});

test("screen readers hear the countdown in coarse words", () => {
  expect(countdownInWords(1000)).toBe("1 second");
  expect(countdownInWords(8000)).toBe("8 seconds");
  expect(countdownInWords(125_000)).toBe("2 minutes");
  expect(countdownInWords(7_200_000)).toBe("2 hours");
  expect(countdownInWords(172_800_000)).toBe("2 days");
});

test("announcements come once per step, not every second", () => {
  const steps = new Set<number>();
  for (let ms = 125_000; ms >= 0; ms -= 250) steps.add(announcementStep(ms));
  // Each minute above a minute, then 60, 30, 10, 5 seconds, then the start.
  expect([...steps]).toEqual([180, 120, 60, 30, 10, 5, 0]);
});

test("prices are minor units in the currency's own digits", () => {
  expect(formatPrice(4999, "USD")).toMatch(/49\.99/);
  expect(formatPrice(500, "JPY")).toMatch(/500/);
  expect(formatPrice(500, "JPY")).not.toMatch(/5\.00/);
});

test("times name their time zone", () => {
  expect(formatTime("2030-01-01T12:00:00.000Z", "UTC")).toMatch(/UTC$/);
  expect(formatTime("2030-01-01T12:00:00.000Z", "Asia/Tokyo")).toMatch(/GMT\+9$/);
});

test("an order's price: the unit price, and the total beyond one unit", () => {
  expect(formatOrderPrice(3500, "USD", 1)).toBe("$35.00");
  expect(formatOrderPrice(3500, "USD", 2)).toBe("2 × $35.00 = $70.00");
});
