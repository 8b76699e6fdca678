import { parseStatusEntry } from "../src/status-entry";
import type { RawEntry } from "../src/raw-entry";

const entry = (fields: string[] | null, id = "1764633600123-0"): RawEntry => ({ saleId: "spring", source: "statuses", id, fields });

test("a change the pay and expiry scripts write: the order id from the sale, epoch and number", () => {
  expect(parseStatusEntry(entry(["n", "7", "epoch", "2", "user", "alice", "status", "paid"]))).toEqual({
    ok: true,
    // When Redis stamped it: the entry id's milliseconds.
    change: { saleId: "spring", entryId: "1764633600123-0", orderId: "spring.2.7", userId: "alice", status: "paid", atMs: 1764633600123 },
  });
  for (const status of ["expired", "failed"]) {
    expect(parseStatusEntry(entry(["n", "7", "epoch", "2", "user", "alice", "status", status])).ok).toBe(true);
  }
});

test.each([
  ["deleted", null, "entry has no fields"],
  ["odd fields", ["n", "7", "epoch"], "odd number"],
  ["no number", ["epoch", "2", "user", "a", "status", "paid"], "bad epoch or n"],
  ["a leading zero", ["n", "07", "epoch", "2", "user", "a", "status", "paid"], "bad epoch or n"],
  ["a dotted epoch", ["n", "7", "epoch", "2.3", "user", "a", "status", "paid"], "bad epoch or n"],
  ["no user", ["n", "7", "epoch", "2", "status", "paid"], "bad user"],
  ["a user with a space", ["n", "7", "epoch", "2", "user", "a b", "status", "paid"], "bad user"],
  ["a status no change sets", ["n", "7", "epoch", "2", "user", "a", "status", "confirmed"], "bad status"],
])("refused: %s", (_, fields, reason) => {
  const parsed = parseStatusEntry(entry(fields));
  expect(parsed.ok).toBe(false);
  if (!parsed.ok) expect(parsed.reason).toContain(reason);
});

test("refused: an entry id without its milliseconds", () => {
  const parsed = parseStatusEntry(entry(["n", "7", "epoch", "2", "user", "a", "status", "paid"], "0-1"));
  expect(parsed).toEqual({ ok: false, reason: "bad entry id" });
});
