/**
 * The product page (/sales/{id}): counts down to the start by the server's clock, offers the
 * login from the first view so that the buy button is all that is left at the start, enables it
 * by itself, asks the challenge where the sale has one (a picture, or its text question), buys,
 * and follows the sale to sold out or ended without a reload. A backend it cannot reach is said
 * so and tried again; an unknown sale has no buy button.
 */
import { getJson, isUnreachable, postJson, type ApiResult, type Challenge, type Order, type PublicSale, type Session } from "./api.js";
import { offerLogin, readSession, showLoggedIn } from "./demo-login.js";
import { byId, idFromPath, show, sleep } from "./dom.js";
import { announcementStep, countdownInWords, formatCountdown, formatPrice, formatTime } from "./format.js";
import { serverNow, syncServerClock } from "./server-clock.js";
import { limitText, retryDelaySec, retryText, saleTerms } from "./texts.js";
import { WaitingRoom } from "./waiting-room.js";

type Phase = "loading" | "unreachable" | "missing" | "upcoming" | "active" | "paused" | "sold_out" | "ended";

const TICK_MS = 250;
/** How often the sale is read again while it is open (stock left, sold out), ms, plus jitter. */
const OPEN_REFRESH_MS = 2000;
/** How often before the start (a publish may move the start), ms. */
const UPCOMING_REFRESH_MS = 30000;
/** After a purchase that may have sold unanswered: how often, and how far apart, the orders are read. */
const UNCONFIRMED_LOOKS = 4;
const UNCONFIRMED_LOOK_MS = 1500;
/** The page's server clock against Redis' acceptedAt: how far apart they may be. */
const CLOCK_SLACK_MS = 2000;
/** When a challenge has this little time left, a screen reader hears it once. */
const CHALLENGE_WARNING_MS = 30000;

const saleId = idFromPath();
const el = {
  name: byId("sale-name"),
  price: byId("sale-price"),
  when: byId("sale-when"),
  countdownBox: byId("countdown-box"),
  countdown: byId("countdown"),
  status: byId("status"),
  stock: byId("stock"),
  terms: byId("sale-terms"),
  quantityBox: byId("quantity-box"),
  quantity: byId<HTMLInputElement>("quantity"),
  unreachable: byId("unreachable"),
  unreachableText: byId("unreachable-text"),
  retryNow: byId<HTMLButtonElement>("retry-now"),
  buy: byId<HTMLButtonElement>("buy"),
  message: byId("message"),
  orderLink: byId("order-link"),
  orderLinkAnchor: byId<HTMLAnchorElement>("order-link-anchor"),
  challenge: byId("challenge"),
  challengeForm: byId<HTMLFormElement>("challenge-form"),
  challengePicture: byId("challenge-picture"),
  challengeImage: byId<HTMLImageElement>("challenge-image"),
  challengeQuestion: byId("challenge-question"),
  challengeLabel: byId("challenge-label"),
  challengeAnswer: byId<HTMLInputElement>("challenge-answer"),
  challengeNew: byId<HTMLButtonElement>("challenge-new"),
  challengeSwitch: byId<HTMLButtonElement>("challenge-switch"),
  challengeExpiry: byId("challenge-expiry"),
  confirm: byId<HTMLButtonElement>("confirm"),
};

let sale: PublicSale | undefined;
let phase: Phase = "loading";
let session: Session | undefined;
/** A request of this page is in flight (the buttons wait for it). */
let busy = false;
/** The shopper may buy no more here (limit reached). */
let done = false;
/** Units the shopper holds here, once a refusal at the limit made the page count them. */
let held = 0;
/** After a refusal worth a retry: not before this (server clock, ms). */
let retryAt = 0;
let challenge: Challenge | undefined;
let challengeKind: Challenge["kind"] = "picture";
let challengeWarned = false;
let lastAnnouncedStep = -1;
/** Reads of the sale that failed in a row (the backoff), and when the next one is due. */
let failures = 0;
let nextReadAt = 0;
let wake: (() => void) | undefined;
/** Sales with a waiting room: the buy button waits for its pass. */
let room: WaitingRoom | undefined;

function phaseNow(): Phase {
  if (sale === undefined) return phase;
  const now = serverNow();
  if (sale.status === "ended" || now >= Date.parse(sale.endsAt)) return "ended";
  if (sale.status === "sold_out") return "sold_out";
  if (now < Date.parse(sale.startsAt)) return "upcoming";
  return sale.status === "paused" ? "paused" : "active";
}

/** Polite, so a screen reader says it when it is free; never more than once per step. */
function announce(text: string): void {
  if (el.status.textContent !== text) el.status.textContent = text;
}

function say(text: string): void {
  el.message.textContent = text;
}

/** A shopper admitted from the queue sees it in the tab's title too, should they have looked away. */
function renderTitle(): void {
  if (sale !== undefined) document.title = `${room?.pass() === undefined ? "" : "Your turn to buy: "}${sale.name} — Flash sale`;
}

function renderSale(s: PublicSale): void {
  renderTitle();
  el.name.textContent = s.name;
  el.price.textContent = formatPrice(s.price, s.currency);
  el.when.textContent = `From ${formatTime(s.startsAt)} to ${formatTime(s.endsAt)}`;
  el.stock.textContent = `${s.stock.left} of ${s.stock.total} left`;
  el.terms.textContent = saleTerms(s);
  el.quantity.max = String(s.perUserLimit - held);
  room ??= s.waitingRoom && new WaitingRoom(s.id, s.waitingRoom.opensAt, el.buy, (q) => {
    // The queue learns of sold out (and of units coming back) sooner than the sale's view.
    if (sale !== undefined && (q.status === "sold_out" || sale.status === "sold_out")) sale.status = q.status === "sold_out" ? "sold_out" : "active";
    renderTitle();
    tick();
  });
}

function renderMissing(): void {
  document.title = "No such sale — Flash sale";
  el.name.textContent = "No such sale";
  el.price.textContent = "";
  el.stock.textContent = "";
  el.when.textContent = "There is no sale at this address. It may have been removed, or the link is mistyped.";
}

function renderPhase(next: Phase): void {
  const changed = next !== phase;
  phase = next;
  document.body.dataset.phase = next;
  show(el.countdownBox, next === "upcoming");
  show(el.unreachable, next === "unreachable");
  // A button only for a sale the page knows.
  show(el.buy, sale !== undefined);
  const closed = next === "sold_out" || next === "ended";
  if (closed) show(el.challenge, false);
  show(el.quantityBox, sale !== undefined && sale.perUserLimit > 1 && !closed && !done);
  el.buy.disabled = next !== "active" || busy || done || serverNow() < retryAt || (room !== undefined && room.pass() === undefined);
  el.buy.textContent = next === "sold_out" ? "Sold out" : next === "ended" ? "Sale ended" : done ? "Already bought" : "Buy now";
  // The page learns of sold out (a refusal, the queue) before the sale's view drops its "left".
  if (next === "sold_out" && sale !== undefined) el.stock.textContent = `All ${sale.stock.total} sold`;
  if (!changed) return;
  if (next === "active") announce(room === undefined ? "The sale is open. You can buy now." : "The sale is open.");
  // No promise of when: the shop resumes it, or ends it.
  if (next === "paused") announce("The sale is paused by the shop. This page goes on by itself if it resumes.");
  if (next === "sold_out") announce("Sold out. Every unit has been sold.");
  if (next === "ended") announce("The sale has ended.");
  if (next === "missing") announce("There is no such sale.");
}

function renderChallengeExpiry(): void {
  if (challenge === undefined) return;
  const left = Date.parse(challenge.expiresAt) - serverNow();
  const what = challenge.kind === "text" ? "question" : "picture";
  if (left <= 0) {
    el.challengeExpiry.textContent = `This ${what} has expired: get a new one.`;
    el.confirm.disabled = true;
    return;
  }
  el.challengeExpiry.textContent = `This ${what} expires in ${formatCountdown(left)}.`;
  if (left <= CHALLENGE_WARNING_MS && !challengeWarned) {
    challengeWarned = true;
    announce(`${countdownInWords(left)} left to answer.`);
  }
}

function tick(): void {
  renderChallengeExpiry();
  if (sale === undefined) return;
  const next = phaseNow();
  if (next === "upcoming") {
    const left = Date.parse(sale.startsAt) - serverNow();
    el.countdown.textContent = formatCountdown(left);
    const step = announcementStep(left);
    if (step !== lastAnnouncedStep) {
      lastAnnouncedStep = step;
      announce(`The sale starts in ${countdownInWords(left)}.`);
    }
  }
  renderPhase(next);
}

function renderUnreachable(res: Extract<ApiResult<unknown>, { ok: false }>): void {
  const waitSec = retryDelaySec(failures);
  const what = res.status === 0 ? "We cannot reach the shop right now" : "The shop is not answering properly right now";
  el.unreachableText.textContent = `${what}. Trying again in ${waitSec} s…`;
  if (sale === undefined) {
    el.name.textContent = "The sale cannot be shown yet";
    renderPhase("unreachable");
  } else {
    // What the page last knew stays; the buy button tells the rest when pressed.
    announce(`${what}; showing what we last knew. Trying again in ${waitSec} s.`);
  }
}

async function refreshSale(): Promise<void> {
  const res = await getJson<PublicSale>(`/api/sales/${encodeURIComponent(saleId)}`);
  if (res.ok) {
    if (failures > 0 && sale !== undefined) announce("Connected again.");
    failures = 0;
    sale = res.body;
    renderSale(sale);
  } else if (res.error === "sale_not_found" || res.error === "not_found") {
    failures = 0;
    sale = undefined;
    renderMissing();
    renderPhase("missing");
  } else if (isUnreachable(res)) {
    failures++;
    renderUnreachable(res);
  } else {
    say(res.message);
  }
  tick();
}

/** Sleeps until the next read is due, or until "Try again now" wakes it. */
function waitForNextRead(ms: number): Promise<void> {
  nextReadAt = Date.now() + ms;
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

async function followSale(): Promise<void> {
  for (;;) {
    const p = phaseNow();
    if (p === "ended" || p === "sold_out" || p === "missing") return;
    let wait: number;
    if (failures > 0) wait = retryDelaySec(failures) * 1000;
    else if (p === "upcoming") wait = Math.min(UPCOMING_REFRESH_MS, Math.max(1000, Date.parse(sale?.startsAt ?? "") - serverNow()));
    else wait = OPEN_REFRESH_MS;
    // Jitter, so that a crowd that loaded the page together does not ask together.
    await waitForNextRead(wait + Math.random() * 1000);
    const hadFailed = failures > 0;
    await refreshSale();
    if (hadFailed && failures === 0) await Promise.all([syncServerClock(), learnSession()]);
  }
}

function setBusy(b: boolean): void {
  busy = b;
  el.confirm.disabled = b;
  el.challengeNew.disabled = b;
  el.challengeSwitch.disabled = b;
  tick();
}

/** The shopper's orders in this sale, newest first (GET /api/orders); undefined if unread. */
async function ownOrders(): Promise<Order[] | undefined> {
  const res = await getJson<{ orders: Order[] }>("/api/orders");
  return res.ok ? res.body.orders.filter((o) => o.saleId === saleId) : undefined;
}

/** Links the shopper's order in this sale, else their orders page. */
async function linkOwnOrder(orders?: Order[]): Promise<void> {
  const mine = (orders ?? (await ownOrders()))?.[0];
  el.orderLinkAnchor.href = mine === undefined ? "/orders" : `/orders/${encodeURIComponent(mine.orderId)}`;
  el.orderLinkAnchor.textContent = mine === undefined ? "See your orders" : "See your order";
  show(el.orderLink, true);
}

async function logIn(why: string): Promise<void> {
  const user = await offerLogin(session, why, true);
  session = { ...(session ?? { demoLogin: true, loginUrl: "" }), loggedIn: true, user };
}

/** What a refusal means for the page; `retry` runs the step again where that makes sense. */
async function handleRefusal(res: Extract<ApiResult<unknown>, { ok: false }>, retry: () => Promise<void>): Promise<void> {
  switch (res.error) {
    case "unauthorized":
      say("");
      await logIn("Log in to buy.");
      return retry();
    case "sold_out":
      if (sale !== undefined) sale.status = "sold_out";
      say("");
      return;
    case "sale_ended":
      if (sale !== undefined) sale.status = "ended";
      say("");
      return;
    case "limit_reached": {
      show(el.challenge, false);
      // Asked for more than is left to them: say how many more they may buy (every order counts, expired too).
      const orders = await ownOrders();
      const limit = sale?.perUserLimit ?? 1;
      held = orders === undefined ? limit : Math.min(limit, orders.reduce((n, o) => n + o.quantity, 0));
      done = held >= limit;
      el.quantity.max = String(limit - held);
      el.quantity.value = el.quantity.max;
      say(limitText(limit, held));
      tick();
      return linkOwnOrder(orders);
    }
    case "not_started":
      say("The sale has not started yet by the server's clock; the countdown was corrected.");
      await syncServerClock();
      return;
    case "challenge_failed":
      say(`${res.message} Here is a new ${challengeKind === "text" ? "question" : "picture"}.`);
      return loadChallenge();
    case "pass_required":
      say(res.message);
      room?.refresh();
      return;
    default: {
      const text = retryText(res.error, res.retryAfterSec);
      say(text ?? res.message);
      if (text === undefined) return;
      retryAt = serverNow() + res.retryAfterSec * 1000;
      tick();
      await sleep(res.retryAfterSec * 1000);
      if (el.message.textContent === text) say(retryText(res.error, 0)!);
      tick();
    }
  }
}

function renderChallenge(c: Challenge): void {
  const text = c.kind === "text";
  show(el.challengePicture, !text);
  show(el.challengeQuestion, text);
  if (text) el.challengeQuestion.textContent = c.question ?? "";
  else el.challengeImage.src = c.image ?? "";
  el.challengeLabel.textContent = text ? "Your answer: six digits" : "Type the six digits in the picture";
  el.challengeNew.textContent = text ? "New question" : "New picture";
  el.challengeSwitch.textContent = text ? "Use a picture instead" : "I cannot use the picture: ask a text question";
  el.challengeAnswer.value = "";
  challengeWarned = false;
  show(el.challenge, true);
  renderChallengeExpiry();
  // A text question is read out first; a picture's answer is typed at once.
  (text ? el.challengeQuestion : el.challengeAnswer).focus();
}

async function loadChallenge(): Promise<void> {
  setBusy(true);
  const res = await postJson<Challenge>(`/api/sales/${encodeURIComponent(saleId)}/challenge`, { kind: challengeKind });
  setBusy(false);
  if (!res.ok) return handleRefusal(res, loadChallenge);
  challenge = res.body;
  renderChallenge(challenge);
}

/** The quantity chosen, or undefined when it is not a whole number from 1 to the most allowed. */
function chosenQuantity(): number | undefined {
  const q = el.quantity.valueAsNumber;
  return Number.isInteger(q) && q >= 1 && q <= Number(el.quantity.max) ? q : undefined;
}

async function purchase(): Promise<void> {
  const body: Record<string, unknown> = { quantity: chosenQuantity() ?? 1, pass: room?.pass() };
  if (sale?.challenge === true) {
    if (challenge === undefined) return loadChallenge();
    body.challengeId = challenge.challengeId;
    body.answer = el.challengeAnswer.value.trim();
    const waitMs = challenge.answerableAt === undefined ? 0 : Date.parse(challenge.answerableAt) - serverNow();
    // One answer per challenge: whatever the outcome, this one is spent.
    challenge = undefined;
    if (waitMs > 0) {
      setBusy(true);
      say("Sending your answer in a moment…");
      await sleep(waitMs + 100);
    }
  }
  setBusy(true);
  say("Sending your order…");
  const sentAt = serverNow();
  const res = await postJson<{ orderId: string }>(`/api/sales/${encodeURIComponent(saleId)}/purchase`, body);
  if (res.ok) {
    say("Order accepted.");
    location.assign(`/orders/${encodeURIComponent(res.body.orderId)}`);
    return;
  }
  if (res.status === 0 || res.orderMayExist) return lookForUnconfirmedOrder(sentAt);
  setBusy(false);
  await handleRefusal(res, purchase);
}

/**
 * After a purchase whose answer was lost (no connection) or said the order may have been taken:
 * whether it sold shows in the shopper's orders, maybe only a moment later (Redis may run a
 * script it had not answered yet), so look there a few times before saying anything. An order
 * of this sale accepted before the purchase was sent is an earlier one, not this.
 */
async function lookForUnconfirmedOrder(sentAt: number): Promise<void> {
  say("We could not confirm your order: it may have been taken. Looking in your orders…");
  for (let look = 1; look <= UNCONFIRMED_LOOKS; look++) {
    await sleep(UNCONFIRMED_LOOK_MS);
    const res = await getJson<{ orders: Order[] }>("/api/orders");
    const mine = res.ok ? res.body.orders.find((o) => o.saleId === saleId && Date.parse(o.acceptedAt) >= sentAt - CLOCK_SLACK_MS) : undefined;
    if (mine !== undefined) {
      say("Order accepted.");
      location.assign(`/orders/${encodeURIComponent(mine.orderId)}`);
      return;
    }
  }
  setBusy(false);
  say("No new order of yours shows in this sale, so it was probably not taken. Check your orders before you try again.");
  await linkOwnOrder();
}

/** Reads who is logged in; offers the login at once, so that the start finds the shopper ready. */
async function learnSession(): Promise<void> {
  const res = await readSession();
  if (!res.ok) return;
  session = res.body;
  showLoggedIn(session.user);
  const p = phaseNow();
  if (!session.loggedIn && p !== "missing" && p !== "ended" && p !== "sold_out") {
    const why = p === "upcoming" ? "Log in now, and buy the moment the sale opens." : "Log in to buy.";
    void offerLogin(session, why, false).then((user) => {
      session = { ...(session as Session), loggedIn: true, user };
    });
  }
}

el.buy.addEventListener("click", () => {
  if (chosenQuantity() === undefined) return say(`Choose how many, from 1 to ${el.quantity.max}.`);
  say("");
  void (sale?.challenge === true ? loadChallenge() : purchase());
});
el.challengeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void purchase();
});
el.challengeNew.addEventListener("click", () => void loadChallenge());
el.challengeSwitch.addEventListener("click", () => {
  challengeKind = challengeKind === "text" ? "picture" : "text";
  void loadChallenge();
});
el.retryNow.addEventListener("click", () => {
  if (Date.now() < nextReadAt) wake?.();
});

async function main(): Promise<void> {
  await syncServerClock();
  await refreshSale();
  await learnSession();
  setInterval(tick, TICK_MS);
  await followSale();
}

void main();
