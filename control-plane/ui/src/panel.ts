/**
 * A part of a page that loads on its own: a failure says in its status line what could not be
 * loaded and why, keeps what was shown before (marked as stale), and retries with a growing
 * pause; a success says when it was read. Polled panels read again every `refreshMs`.
 */
import { reason } from "./api";
import { clockText } from "./format";
import { el } from "./dom";

const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 30_000;

export interface PanelOptions {
  id: string;
  /** What the panel shows, for the status line ("live stats"). */
  what: string;
  /** Reads and shows the panel's content; throws when it cannot. */
  load: () => Promise<void>;
  /** Read again this often after a success; absent: only on refresh(). */
  refreshMs?: number;
}

export class Panel {
  readonly status: HTMLElement;
  private timer: number | undefined;
  private retryMs = RETRY_FIRST_MS;
  private loading: Promise<void> | undefined;
  /** A refresh asked for during a load: it runs once more after it. */
  private again = false;
  private loadedOnce = false;

  constructor(private readonly opts: PanelOptions) {
    this.status = el("p", { class: "panel-status", id: `${opts.id}-status`, role: "status", "data-state": "loading", text: `Loading ${opts.what}…` });
  }

  /** Reads now, or right after the read in flight (never two at once); polls and retries are timed from the last. */
  refresh(): Promise<void> {
    if (this.loading !== undefined) {
      this.again = true;
      return this.loading;
    }
    const runs = async (): Promise<void> => {
      do {
        this.again = false;
        await this.run();
      } while (this.again);
    };
    this.loading = runs().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async run(): Promise<void> {
    window.clearTimeout(this.timer);
    try {
      await this.opts.load();
      this.loadedOnce = true;
      this.retryMs = RETRY_FIRST_MS;
      this.show("ok", `Read ${this.opts.what} at ${clockText(Date.now())}.`);
      if (this.opts.refreshMs !== undefined) this.schedule(this.opts.refreshMs);
    } catch (err) {
      const stale = this.loadedOnce ? " Showing the last values read." : "";
      this.show("error", `Could not load ${this.opts.what}: ${reason(err)}. Retrying in ${Math.round(this.retryMs / 1000)} s.${stale}`);
      this.schedule(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    }
  }

  private schedule(ms: number): void {
    this.timer = window.setTimeout(() => void this.refresh(), ms);
  }

  private show(state: "ok" | "error", text: string): void {
    this.status.dataset["state"] = state;
    this.status.textContent = text;
  }
}
