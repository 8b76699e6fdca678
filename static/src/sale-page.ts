/**
 * The product page (/sales/{id}): counts down to the start by the server's clock, enables the
 * buy button by itself at the start, asks the challenge where the sale has one, buys, and
 * follows the sale to sold out or ended without a reload.
 */
import { getJson, postJson, type ApiResult, type Challenge, type PublicSale } from "./api.js";
import { askToLogIn } from "./demo-login.js";
import { byId, idFromPath, show, sleep } from "./dom.js";
import { announcementStep, countdownInWords, formatCountdown, formatPrice, formatTime } from "./format.js";
import { serverNow, syncServerClock } from "./server-clock.js";
import { WaitingRoom } from "./waiting-room.js";

type Phase = "loading" | "missing" | "upcoming" | "active" | "paused" | "sold_out" | "ended";

const TICK_MS = 250;
/** How often the sale is read again while it is open (stock left, sold out), ms, plus jitter. */
const OPEN_REFRESH_MS = 2000;
/** How often before the start (a publish may move the start), ms. */
const UPCOMING_REFRESH_MS = 30000;

const saleId = idFromPath();
const el = {
  name: byId("sale-name"),
  price: byId("sale-price"),
  when: byId("sale-when"),
  countdownBox: byId("countdown-box"),
  countdown: byId("countdown"),
  status: byId("status"),
  stock: byId("stock"),
  buy: byId<HTMLButtonElement>("buy"),
  message: byId("message"),
  challenge: byId("challenge"),
  challengeForm: byId<HTMLFormElement>("challenge-form"),
  challengeImage: byId<HTMLImageElement>("challenge-image"),
  challengeAnswer: byId<HTMLInputElement>("challenge-answer"),
  challengeNew: byId<HTMLButtonElement>("challenge-new"),
  confirm: byId<HTMLButtonElement>("confirm"),
};

let sale: PublicSale | undefined;
let phase: Phase = "loading";
/** A request of this page is in flight (the buttons wait for it). */
let busy = false;
/** The shopper may buy no more here (limit reached). */
let done = false;
let challenge: Challenge | undefined;
let lastAnnouncedStep = -1;
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

function renderSale(s: PublicSale): void {
  document.title = `${s.name} — Flash sale`;
  el.name.textContent = s.name;
  el.price.textContent = formatPrice(s.price, s.currency);
  el.when.textContent = `From ${formatTime(s.startsAt)} to ${formatTime(s.endsAt)}`;
  el.stock.textContent = `${s.stock.left} of ${s.stock.total} left`;
  room ??= s.waitingRoom && new WaitingRoom(s.id, s.waitingRoom.opensAt, el.buy, (q) => {
    // The queue learns of sold out (and of units coming back) sooner than the sale's view.
    if (sale !== undefined && (q.status === "sold_out" || sale.status === "sold_out")) sale.status = q.status === "sold_out" ? "sold_out" : "active";
    tick();
  });
}

function renderPhase(next: Phase): void {
  const changed = next !== phase;
  phase = next;
  document.body.dataset.phase = next;
  show(el.countdownBox, next === "upcoming");
  const closed = next === "sold_out" || next === "ended";
  if (closed) show(el.challenge, false);
  el.buy.disabled = next !== "active" || busy || done || (room !== undefined && room.pass() === undefined);
  el.buy.textContent = next === "sold_out" ? "Sold out" : next === "ended" ? "Sale ended" : "Buy now";
  if (!changed) return;
  if (next === "active") announce(room === undefined ? "The sale is open. You can buy now." : "The sale is open.");
  if (next === "paused") announce("The sale is paused. It will resume shortly.");
  if (next === "sold_out") announce("Sold out. Every unit has been sold.");
  if (next === "ended") announce("The sale has ended.");
  if (next === "missing") announce("There is no such sale.");
}

function tick(): void {
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

async function refreshSale(): Promise<void> {
  const res = await getJson<PublicSale>(`/api/sales/${encodeURIComponent(saleId)}`);
  if (res.ok) {
    sale = res.body;
    renderSale(sale);
  } else if (res.error === "sale_not_found" || res.error === "not_found") {
    sale = undefined;
    el.name.textContent = "No such sale";
    renderPhase("missing");
  }
  tick();
}

async function followSale(): Promise<void> {
  for (;;) {
    const p = phaseNow();
    if (p === "ended" || p === "sold_out" || p === "missing") return;
    const wait = p === "upcoming" ? Math.min(UPCOMING_REFRESH_MS, Math.max(1000, Date.parse(sale?.startsAt ?? "") - serverNow())) : OPEN_REFRESH_MS;
    // Jitter, so that a crowd that loaded the page together does not ask together.
    await sleep(wait + Math.random() * 1000);
    await refreshSale();
  }
}

function say(text: string): void {
  el.message.textContent = text;
}

function setBusy(b: boolean): void {
  busy = b;
  el.confirm.disabled = b;
  el.challengeNew.disabled = b;
  tick();
}

/** What a refusal means for the page; `retry` runs the step again where that makes sense. */
async function handleRefusal(res: Extract<ApiResult<unknown>, { ok: false }>, retry: () => Promise<void>): Promise<void> {
  switch (res.error) {
    case "unauthorized":
      say("Log in to buy.");
      await askToLogIn();
      say("");
      return retry();
    case "sold_out":
      if (sale !== undefined) sale.status = "sold_out";
      say("");
      return;
    case "sale_ended":
      if (sale !== undefined) sale.status = "ended";
      say("");
      return;
    case "limit_reached":
      done = true;
      say("You already have the most units this sale allows per shopper.");
      return;
    case "not_started":
      say("The sale has not started yet by the server's clock; the countdown was corrected.");
      await syncServerClock();
      return;
    case "challenge_failed":
      say(`${res.message} Here is a new picture.`);
      return loadChallenge();
    case "pass_required":
      say(res.message);
      room?.refresh();
      return;
    default:
      say(`${res.message} Try again in ${res.retryAfterSec} s.`);
      await sleep(res.retryAfterSec * 1000);
      return;
  }
}

async function loadChallenge(): Promise<void> {
  setBusy(true);
  const res = await postJson<Challenge>(`/api/sales/${encodeURIComponent(saleId)}/challenge`, {});
  setBusy(false);
  if (!res.ok) return handleRefusal(res, loadChallenge);
  challenge = res.body;
  el.challengeImage.src = challenge.image;
  el.challengeAnswer.value = "";
  show(el.challenge, true);
  el.challengeAnswer.focus();
}

async function purchase(): Promise<void> {
  const body: Record<string, unknown> = { quantity: 1, pass: room?.pass() };
  if (sale?.challenge === true) {
    if (challenge === undefined) return loadChallenge();
    body.challengeId = challenge.challengeId;
    body.answer = el.challengeAnswer.value.trim();
    // One answer per challenge: whatever the outcome, this one is spent.
    challenge = undefined;
  }
  setBusy(true);
  say("Sending your order…");
  const res = await postJson<{ orderId: string }>(`/api/sales/${encodeURIComponent(saleId)}/purchase`, body);
  if (res.ok) {
    say("Order accepted.");
    location.assign(`/orders/${encodeURIComponent(res.body.orderId)}`);
    return;
  }
  setBusy(false);
  await handleRefusal(res, purchase);
}

el.buy.addEventListener("click", () => {
  say("");
  void (sale?.challenge === true ? loadChallenge() : purchase());
});
el.challengeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void purchase();
});
el.challengeNew.addEventListener("click", () => void loadChallenge());

async function main(): Promise<void> {
  await syncServerClock();
  await refreshSale();
  setInterval(tick, TICK_MS);
  await followSale();
}

void main();
