import { coarseCount, queueAnnouncement, queueDetails, waitInWords } from "../src/queue-format";

const NOW = Date.parse("2030-01-01T12:00:00Z");

test("before the draw, a place with its progress, the turn, sold out and a passed turn", () => {
  expect(queueDetails({ status: "waiting" }, NOW)).toMatchObject({ headline: "You're in the waiting room.", progress: undefined });
  expect(queueDetails({ status: "waiting", position: 1201, ahead: 300, etaSeconds: 150 }, NOW)).toEqual({
    // The place is counted from those still ahead, not the join position.
    headline: "You are number 301 in the queue.",
    detail: "300 shoppers ahead of you · about 2 minutes to wait",
    progress: 0.75,
  });
  expect(queueDetails({ status: "waiting", position: 1, ahead: 0, etaSeconds: 1 }, NOW)).toMatchObject({ detail: "0 shoppers ahead of you · less than a minute to wait", progress: 1 });
  expect(queueDetails({ status: "admitted", position: 3, passExpiresAt: "2030-01-01T12:01:05Z" }, NOW).detail).toBe("Your pass is valid for 01:05.");
  expect(queueDetails({ status: "sold_out" }, NOW).headline).toBe("Sold out.");
  expect(queueDetails({ status: "ended", position: 3 }, NOW).headline).toBe("Your turn has passed.");
  expect(queueDetails({ status: "ended" }, NOW).headline).toBe("The sale has ended.");
});

test("announcements move in coarse steps: the count to the ten, hundred or thousand, the wait to the minute", () => {
  expect([3, 14, 15, 149, 151, 1499, 12_345].map(coarseCount)).toEqual([3, 10, 20, 100, 200, 1000, 12_000]);
  expect([1, 59, 60, 119, 3600].map(waitInWords)).toEqual(["less than a minute", "less than a minute", "about 1 minute", "about 1 minute", "about 1 hour"]);
  const at = (ahead: number, etaSeconds: number) => queueAnnouncement({ status: "waiting", position: 2000, ahead, etaSeconds });
  expect(at(1234, 130)).toBe(at(1180, 170));
  expect(at(1234, 130)).toBe("About 1,000 ahead of you in the queue, about 2 minutes to wait.");
  expect(at(0, 1)).toBe("You're next in the queue.");
  expect(queueAnnouncement({ status: "admitted", position: 2 })).toBe("It's your turn. You can buy now.");
});
