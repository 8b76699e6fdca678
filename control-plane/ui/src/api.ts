/**
 * The admin JSON API as the pages call it: the session cookie goes along by itself; every
 * state-changing request carries the session's CSRF token (from the page's meta tag).
 */

export interface FieldError {
  path: string;
  message: string;
}

/** An answer other than 2xx, with the API's `{error, message, fields}` body. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: FieldError[],
  ) {
    super(message);
  }
}

function csrfToken(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrfToken();
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`/admin/api/sales${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  // The session ended (expired, or the control plane restarted): log in again.
  if (res.status === 401) location.assign("/admin/login");
  if (res.status === 204) return undefined as T;
  const json = (await res.json()) as T & { message?: string; fields?: FieldError[] };
  if (!res.ok) throw new ApiFailure(res.status, json.message ?? `HTTP ${res.status}`, json.fields ?? []);
  return json;
}

export async function logout(): Promise<void> {
  await fetch("/admin/logout", { method: "POST", headers: { "x-csrf-token": csrfToken() } });
  location.assign("/admin/login");
}
