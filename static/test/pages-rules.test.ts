import type { PublicSaleView } from "@flash-sale/contract/sale";
import { orderedSales, sharedNames } from "../src/listing";
import { limitText, loginHref, retryDelaySec, retryText, saleTerms } from "../src/texts";
import { awaitsPayment, isSettled, saleLabel, statusText } from "../src/order-view";
import type { Order } from "../src/api";

function sale(id: string, status: PublicSaleView["status"], startsAt: string, endsAt: string, name = id): PublicSaleView {
  return { id, name, price: 100, currency: "USD", startsAt, endsAt, status, challenge: false, perUserLimit: 1, stock: { total: 5, left: 2 } };
}

test("the list: open sales ending soonest, then upcoming starting soonest, sold out, ended last (latest ended first)", () => {
  const sales = [
    sale("ended-early", "ended", "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z"),
    sale("soon", "upcoming", "2030-01-03T00:00:00Z", "2030-01-04T00:00:00Z"),
    sale("sold", "sold_out", "2030-01-01T00:00:00Z", "2030-01-05T00:00:00Z"),
    sale("open-long", "active", "2030-01-01T00:00:00Z", "2030-01-09T00:00:00Z"),
    sale("later", "upcoming", "2030-01-06T00:00:00Z", "2030-01-07T00:00:00Z"),
    sale("ended-late", "ended", "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"),
    sale("paused", "paused", "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"),
  ];
  expect(orderedSales(sales).map((s) => s.id)).toEqual(["paused", "open-long", "soon", "later", "sold", "ended-late", "ended-early"]);
});

test("names borne by more than one sale are found, to tell those sales apart", () => {
  expect([...sharedNames([{ name: "Shoes" }, { name: "Lamp" }, { name: "Shoes" }, { name: "Shoes" }])]).toEqual(["Shoes"]);
});

test("a refusal worth a retry says what happened and when to try again, once", () => {
  const text = retryText("unavailable", 2)!;
  expect(text).toBe("The shop cannot take orders right now; nothing was sold. Try again in 2 s.");
  expect(text.match(/[Tt]ry again/g)).toHaveLength(1);
  for (const code of ["network", "rate_limited", "sale_paused", "sale_busy"]) expect(retryText(code, 3)?.match(/[Tt]ry again/g)).toHaveLength(1);
  expect(retryText("bad_request", 1)).toBeUndefined();
  // The wait over: the explanation stays, with the hint beside it.
  expect(retryText("unavailable", 0)).toBe("The shop cannot take orders right now; nothing was sold. You can try again now.");
});

test("before the click: the limit per shopper, then the queue and the challenge ahead", () => {
  expect(saleTerms({ perUserLimit: 1, challenge: false })).toBe("One per shopper.");
  expect(saleTerms({ perUserLimit: 3, challenge: true, waitingRoom: { opensAt: "2030-01-01T12:00:00Z" } })).toBe(
    "Up to 3 per shopper. You join a waiting room first, and buy when it is your turn. Before buying you type six digits from a picture (or answer a text question).",
  );
});

test("a purchase past the limit says how many more the shopper may buy, or that they have the most", () => {
  expect(limitText(2, 1)).toBe("You hold 1 of the 2 allowed per shopper: you may buy 1 more.");
  expect(limitText(2, 2)).toBe("You already have the most units this sale allows per shopper.");
});

test("the shop's login link carries the page to come back to, where the knob asks for it", () => {
  expect(loginHref("https://shop.example/login?return={return}", "http://gw/sales/a?b=1")).toBe("https://shop.example/login?return=http%3A%2F%2Fgw%2Fsales%2Fa%3Fb%3D1");
  expect(loginHref("/login", "http://gw/")).toBe("/login");
});

test("tries to reach the backend back off to 15 s", () => {
  expect([1, 2, 3, 4, 5, 6, 9].map(retryDelaySec)).toEqual([1, 2, 4, 8, 15, 15, 15]);
});

test("an order's status words, and whether it may still change", () => {
  const base: Order = { orderId: "s.1.1", saleId: "s", status: "confirmed", quantity: 1, acceptedAt: "2030-01-01T00:00:00Z" };
  expect([statusText(base), isSettled(base), awaitsPayment(base)]).toEqual(["Confirmed: your order is recorded.", true, false]);
  const reserved = { ...base, deduction: "reserve" as const, payBy: "2030-01-01T00:10:00Z" };
  expect([statusText(reserved), isSettled(reserved)]).toEqual(["Reserved: your unit is held until you pay.", false]);
  expect(statusText({ ...reserved, deduction: "payment" })).toMatch(/^Awaiting payment/);
  expect(isSettled({ ...reserved, status: "paid" })).toBe(true);
  expect([saleLabel(base), saleLabel({ ...base, saleName: "Lamp" })]).toEqual(["Sale s", "Lamp"]);
});
