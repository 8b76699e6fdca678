/**
 * The admin JSON API as the pages call it: the session cookie goes along by itself; every
 * state-changing request carries the session's CSRF token (from the page's meta tag). Every
 * failure becomes an ApiFailure whose message says in plain words what went wrong.
 */

export interface FieldError {
  path: string;
  message: string;
}

/** Longer than any answer of a healthy control plane; a hung read must not hang its panel. */
const TIMEOUT_MS = 10_000;

export class ApiFailure extends Error {
  constructor(
    /** HTTP status; 0 when no answer came. */
    readonly status: number,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }
}

function csrfToken(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
}

/** Calls `/admin/api<path>`; the JSON answer, or undefined for a 204. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrfToken();
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(`/admin/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    throw new ApiFailure(0, timedOut ? `the control plane did not answer within ${TIMEOUT_MS / 1000} s` : "the control plane could not be reached");
  }
  // The session ended (expired, or logged out elsewhere): log in again.
  if (res.status === 401) location.assign("/admin/login");
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => undefined)) as (T & { message?: string; fields?: FieldError[] }) | undefined;
  if (!res.ok || json === undefined) {
    throw new ApiFailure(res.status, `${(json?.message ?? "the answer was not JSON").replace(/\.$/, "")} (HTTP ${res.status})`, json?.fields ?? []);
  }
  return json;
}

/** An error as a sentence's end: "… could not be loaded: <this>". */
export function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function logout(): Promise<void> {
  await fetch("/admin/logout", { method: "POST", headers: { "x-csrf-token": csrfToken() } });
  location.assign("/admin/login");
}
