/**
 * The demo login (development only): POST /api/dev/login sets the fs_token cookie. Where the
 * gateway has no such route (production), the shopper is sent to the platform's login.
 */
import { postJson } from "./api.js";
import { byId, show } from "./dom.js";

/** Shows the login form and resolves once the shopper is logged in. */
export function askToLogIn(): Promise<void> {
  const section = byId("login");
  const form = byId<HTMLFormElement>("login-form");
  const input = byId<HTMLInputElement>("login-name");
  const message = byId("login-message");
  show(section, true);
  input.focus();
  return new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      message.textContent = "Logging in…";
      const res = await postJson<{ user: string }>("/api/dev/login", { user: input.value.trim() });
      if (res.ok) {
        message.textContent = "";
        show(section, false);
        form.onsubmit = null;
        resolve();
      } else if (res.status === 404 || res.status === 405) {
        message.textContent = "Please log in on the shop's site, then come back to this page.";
      } else {
        message.textContent = res.message;
      }
    };
  });
}
