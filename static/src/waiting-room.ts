/**
 * The product page's waiting room, for sales that have one: a panel to join the queue (from
 * when it opens), then the shopper's place, a progress bar and the wait, polled as often as
 * the gateway says, with the signed ticket it gave (kept for a reload in sessionStorage), until
 * the shopper is admitted (the page buys with the pass), sold out, or over. A poll answered
 * 404 not_in_queue (the queue was restarted after a Redis failure, and the shopper's place with
 * it) joins again at once, without a click. A shopper whose pass expired unused is offered to
 * join again, at the back of the queue, while the sale is on.
 */
import { getJson, postJson, type ApiResult } from "./api.js";
import { offerLogin } from "./demo-login.js";
import { show, sleep } from "./dom.js";
import { formatTime } from "./format.js";
import type { QueueReply } from "@flash-sale/contract/waiting_room";
import { queueAnnouncement, queueDetails } from "./queue-format.js";
import { serverNow } from "./server-clock.js";

/** How long to wait after a failed poll when the answer gives no Retry-After. */
const RETRY_AFTER_FAILURE_MS = 2000;
/** The pass's time left is shown to the second. */
const TICK_MS = 1000;
/** Joining again on its own at most this often; past that, the join button is offered. */
const REJOIN_EVERY_MS = 10_000;
const JOIN_LABEL = "Join the queue";

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string>, text = ""): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.textContent = text;
  return e;
}

export class WaitingRoom {
  private reply: QueueReply | undefined;
  private ticket: string | undefined;
  private wake: (() => void) | undefined;
  private following = false;
  private rejoinedAt = -Infinity;
  private readonly storageKey: string;
  private readonly el = {
    panel: element("section", { id: "queue", class: "panel queue", "aria-labelledby": "queue-title" }),
    headline: element("p", { id: "queue-headline", class: "queue__headline" }),
    progress: element("progress", { id: "queue-progress", max: "1", value: "0", "aria-label": "Your way to the front of the queue" }),
    detail: element("p", { id: "queue-detail" }),
    join: element("button", { id: "queue-join", class: "primary", type: "button" }, JOIN_LABEL),
    announce: element("p", { id: "queue-status", class: "queue__announce", "aria-live": "polite", "aria-atomic": "true" }),
  };

  /** Builds the panel before `anchor`; `onChange` runs after every answer. */
  constructor(
    private readonly saleId: string,
    private readonly opensAt: string,
    anchor: HTMLElement,
    private readonly onChange: (reply: QueueReply) => void,
  ) {
    this.storageKey = `fs-queue-ticket:${saleId}`;
    const { panel, headline, progress, detail, join, announce } = this.el;
    panel.append(element("h2", { id: "queue-title" }, "Waiting room"), headline, progress, detail, join, announce);
    anchor.before(panel);
    show(progress, false);
    join.addEventListener("click", () => void this.join());
    this.ticket = sessionStorage.getItem(this.storageKey) ?? undefined;
    if (this.ticket !== undefined) void this.follow();
    else this.offerJoin();
  }

  /** The pass to buy with, while the shopper is admitted. */
  pass(): string | undefined {
    return this.reply?.status === "admitted" ? this.reply.pass : undefined;
  }

  /** Asks again now (a purchase was refused for its pass). */
  refresh(): void {
    this.wake?.();
  }

  private get path(): string {
    return `/api/sales/${encodeURIComponent(this.saleId)}/queue`;
  }

  private offerJoin(): void {
    show(this.el.join, true);
    this.el.join.textContent = JOIN_LABEL;
    const opensIn = Date.parse(this.opensAt) - serverNow();
    this.el.join.disabled = opensIn > 0;
    this.el.headline.textContent = opensIn > 0 ? `The waiting room opens at ${formatTime(this.opensAt)}.` : "Join the queue to buy.";
    if (opensIn > 0) setTimeout(() => this.offerJoin(), Math.min(opensIn, 2 ** 31 - 1));
  }

  private async join(): Promise<void> {
    this.el.join.disabled = true;
    const res = await postJson<QueueReply>(this.path, {});
    if (!res.ok && res.error === "unauthorized") {
      await offerLogin(undefined, "Log in to join the waiting room.", true);
      return this.join();
    }
    this.el.join.disabled = false;
    if (!res.ok) {
      this.el.detail.textContent = res.message;
      return;
    }
    this.update(res.body);
    void this.follow(res.body.retryAfterMs);
  }

  private async follow(firstWaitMs = 0): Promise<void> {
    if (this.following) return;
    this.following = true;
    let wait = firstWaitMs;
    for (;;) {
      await this.pause(wait);
      const res: ApiResult<QueueReply> = await getJson<QueueReply>(`${this.path}?ticket=${encodeURIComponent(this.ticket ?? "")}`);
      if (!res.ok && (res.error === "not_in_queue" || res.error === "unauthorized")) {
        sessionStorage.removeItem(this.storageKey);
        this.ticket = undefined;
        this.following = false;
        if (res.error === "not_in_queue" && Date.now() - this.rejoinedAt >= REJOIN_EVERY_MS) {
          this.rejoinedAt = Date.now();
          return this.join();
        }
        return this.offerJoin();
      }
      if (!res.ok) {
        wait = res.retryAfterSec > 0 ? res.retryAfterSec * 1000 : RETRY_AFTER_FAILURE_MS;
        continue;
      }
      this.update(res.body);
      if (res.body.retryAfterMs === undefined) break;
      wait = res.body.retryAfterMs;
    }
    this.following = false;
  }

  /** Sleeps, showing the pass's time left each second; refresh() cuts it short. */
  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    let woken = false;
    this.wake = () => (woken = true);
    while (!woken && Date.now() < until) {
      await sleep(Math.min(TICK_MS, until - Date.now()));
      if (this.reply?.status === "admitted") this.render();
    }
    this.wake = undefined;
  }

  private update(reply: QueueReply): void {
    this.reply = reply;
    if (reply.ticket !== undefined) {
      this.ticket = reply.ticket;
      sessionStorage.setItem(this.storageKey, reply.ticket);
    }
    this.render();
    // An "ended" with a position is a turn passed unused (the sale's end answers none).
    const missed = reply.status === "ended" && reply.position !== undefined;
    show(this.el.join, missed);
    if (missed) this.el.join.textContent = "Join again, at the back of the queue";
    const said = queueAnnouncement(reply);
    if (this.el.announce.textContent !== said) this.el.announce.textContent = said;
    document.body.dataset.queue = reply.status;
    this.onChange(reply);
  }

  private render(): void {
    if (this.reply === undefined) return;
    const d = queueDetails(this.reply, serverNow());
    this.el.headline.textContent = d.headline;
    this.el.detail.textContent = d.detail;
    show(this.el.progress, d.progress !== undefined);
    this.el.progress.value = d.progress ?? 0;
  }
}
