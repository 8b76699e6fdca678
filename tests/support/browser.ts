/**
 * A real browser for page tests: Debian's chromium driven by playwright-core, headless, in a new
 * empty profile, with everything that would phone home switched off. Screenshots go to
 * test-artifacts/ (ignored by git).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Dialog, type Page } from "playwright-core";
import { TEST_ADMIN_TOKEN } from "./control-plane";

export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS_DIR = path.resolve(__dirname, "../../test-artifacts");

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface BrowserOptions {
  /** The operator's time zone (IANA); UTC unless given. */
  timezoneId?: string;
  /** A test file's stack: the browser is closed when it stops. */
  closedWith?: { onStop(stop: () => unknown): void };
}

export class Browser {
  /** Every URL the pages asked for, to show that nothing left the gateway's origin. */
  readonly requested: string[] = [];
  /** Console errors (CSP violations, failed loads) and uncaught errors of every page, with the page's URL. */
  readonly consoleErrors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    private readonly profileDir: string,
  ) {
    context.on("request", (r) => this.requested.push(r.url()));
    context.on("console", (m) => {
      if (m.type() === "error") this.consoleErrors.push(`${m.page()?.url() ?? "?"}: ${m.text()} (${m.location().url})`);
    });
    context.on("weberror", (e) => this.consoleErrors.push(`${e.page()?.url() ?? "?"}: uncaught ${String(e.error())}`));
  }

  static async launch(opts: BrowserOptions = {}): Promise<Browser> {
    const profileDir = mkdtempSync(path.join(tmpdir(), "fs-chromium-"));
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: DESKTOP,
      locale: "en-US",
      timezoneId: opts.timezoneId ?? "UTC",
    });
    // Chromium reports some CSP violations (a caught `new Function`) only as this event.
    await context.addInitScript(
      'document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));',
    );
    const browser = new Browser(context, profileDir);
    opts.closedWith?.onStop(() => browser.close());
    return browser;
  }

  async newPage(): Promise<Page> {
    return this.context.newPage();
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}

/** Saves the page at desktop and phone width as test-artifacts/<name>-{desktop,phone}.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const [label, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

// Expressions run in the page, as text: the tests are type-checked without the DOM's types.

/** True when nothing on the page is wider than the viewport (no sideways scrolling on a phone). */
export function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth");
}

/** True when the page fits a phone's width (see fitsWidth), `settleMs` after the resize; the page is left at desktop width. */
export async function fitsPhone(page: Page, settleMs = 0): Promise<boolean> {
  await page.setViewportSize(PHONE);
  if (settleMs > 0) await page.waitForTimeout(settleMs);
  const fits = await fitsWidth(page);
  await page.setViewportSize(DESKTOP);
  return fits;
}

/** Signs `page` in to the admin UI at `controlPlaneUrl` with a token (the tests' admin token by default). */
export async function adminLogin(page: Page, controlPlaneUrl: string, token = TEST_ADMIN_TOKEN): Promise<void> {
  await page.goto(`${controlPlaneUrl}/admin/login`);
  await page.fill("#token", token);
  await page.click("#token-submit");
  await page.waitForURL(`${controlPlaneUrl}/admin`);
}

/** The id of the element that has the keyboard focus. */
export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate<string | undefined>("document.activeElement ? document.activeElement.id : undefined");
}

/**
 * Answers the page's dialogs: accepted ("accept"; a prompt given `{ text }`) or dismissed. Returns
 * their messages as they come. `once`: the next dialog only.
 */
export function answerDialogs(page: Page, answer: "accept" | "dismiss" | { text: string }, once = false): string[] {
  const messages: string[] = [];
  const handle = (d: Dialog) => {
    messages.push(d.message());
    void (answer === "dismiss" ? d.dismiss() : d.accept(answer === "accept" ? undefined : answer.text));
  };
  if (once) page.once("dialog", handle);
  else page.on("dialog", handle);
  return messages;
}

/** True when the image element matched by `selector` has loaded and decoded a picture. */
export function imageLoaded(page: Page, selector: string): Promise<boolean> {
  return page.evaluate<boolean>(`((img) => !!img && img.complete && img.naturalWidth > 0)(document.querySelector(${JSON.stringify(selector)}))`);
}
