/** Small DOM helpers for the admin pages. */

type Child = Node | string;

/** An element with attributes (`text` sets its text) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** Replaces the page's content. */
export function render(...children: Child[]): void {
  const main = document.getElementById("app");
  if (main === null) throw new Error("the page has no #app");
  main.replaceChildren(...children);
}
