/** Small DOM helpers for the pages. */

/** The element with this id, or an error naming it (a page without it is a build mistake). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last path segment of the page's URL: /sales/<id>, /orders/<id>. */
export function idFromPath(): string {
  const parts = location.pathname.split("/").filter((p) => p !== "");
  return decodeURIComponent(parts[parts.length - 1] ?? "");
}
