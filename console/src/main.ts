// The console: a hash router over the pages, the header's navigation (only what the
// token's roles allow), and the session's end (401 anywhere → sign-in, with a message).

import "./styles.css";
import { ApiError, api, isAbort, onUnauthorized } from "./api";
import { h } from "./dom";
import { clearNotices, showError, showStatus } from "./notices";
import { type Session, expired, forget, isStaff, load } from "./session";
import { boardPage } from "./pages/board";
import { branchesPage } from "./pages/branches";
import { menuPage } from "./pages/menu";
import { salesPage } from "./pages/sales";
import { signInPage } from "./pages/signin";

export interface PageContext {
  session: Session;
  /** Aborted when the page is left. */
  signal: AbortSignal;
  /** The hash path after the page's name, e.g. ["3"] for #/board/3. */
  rest: string[];
  params: URLSearchParams;
  /** Runs when the page is left (charts destroyed, polls stopped...). */
  onLeave(fn: () => void): void;
}

interface Route {
  title: string;
  allowed(session: Session): boolean;
  render(main: HTMLElement, ctx: PageContext): void;
}

const routes: Record<string, Route> = {
  board: { title: "Kitchen board", allowed: isStaff, render: boardPage },
  menu: { title: "Menu", allowed: (s) => s.roles.admin, render: menuPage },
  branches: { title: "Branches and staff", allowed: (s) => s.roles.admin, render: branchesPage },
  sales: { title: "Sales", allowed: (s) => s.roles.admin, render: salesPage },
};

/** A message for the sign-in page to show when it next appears. */
/** A message for the next page to show (it clears the notices before it renders). */
let pendingStatus: string | null = null;
let pendingSignInMessage: { text: string; requestId: string | null; kind: "error" | "info" } | null = null;
/** Where to go after signing in again. */
let returnTo: string | null = null;
let leaving: (() => void)[] = [];
let controller: AbortController | null = null;

function el<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

function parseHash(): { name: string; rest: string[]; params: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path = "", query = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map((p) => decodeURIComponent(p));
  return { name: parts[0] ?? "", rest: parts.slice(1), params: new URLSearchParams(query) };
}

function defaultRoute(session: Session): string {
  return isStaff(session) ? "#/board" : "#/signin";
}

export function go(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

/** Ends the session locally and shows sign-in with `text`. */
function endSession(text: string, requestId: string | null, kind: "error" | "info" = "error"): void {
  forget();
  pendingSignInMessage = { text, requestId, kind };
  go("#/signin");
}

onUnauthorized((error: ApiError) => {
  const here = location.hash;
  if (!here.startsWith("#/signin")) returnTo = here;
  endSession(`Your session has ended (${error.detail}). Please sign in again.`, error.requestId);
});

function renderNav(session: Session | null, current: string): void {
  const nav = el("nav-links");
  const who = el("who");
  nav.replaceChildren();
  who.replaceChildren();
  if (!session) {
    el("site-nav").hidden = true;
    return;
  }
  el("site-nav").hidden = false;
  for (const [name, route] of Object.entries(routes)) {
    if (!route.allowed(session)) continue;
    nav.append(
      h("li", null, h("a", { href: `#/${name}`, "aria-current": name === current ? "page" : undefined, "data-testid": `nav-${name}` }, route.title)),
    );
  }
  const roleText = session.roles.admin ? "admin" : `staff of ${session.roles.staff.join(", ")}`;
  who.append(
    h("span", { class: "who-name" }, session.memberId, h("span", { class: "who-role" }, ` (${roleText})`)),
    h("button", { type: "button", class: "secondary", "data-testid": "sign-out", onclick: () => void signOut() }, "Sign out"),
  );
}

async function signOut(): Promise<void> {
  try {
    await api.get("/api/login/logout/");
  } catch (e) {
    if (!(e instanceof ApiError && e.sessionEnded)) {
      // The token is forgotten here anyway; say that the server did not hear of it.
      forget();
      pendingSignInMessage = null;
      go("#/signin");
      showError(e, { context: "Signed out here, but the server could not be told" });
      return;
    }
  }
  endSession("You are signed out.", null, "info");
}

function leavePage(): void {
  controller?.abort();
  controller = null;
  for (const fn of leaving) {
    try {
      fn();
    } catch {
      // a page's cleanup must not stop the next page
    }
  }
  leaving = [];
}

async function render(): Promise<void> {
  leavePage();
  const main = el("main");
  const { name, rest, params } = parseHash();
  let session = load();
  if (session && expired(session)) {
    returnTo = name && name !== "signin" ? location.hash : returnTo;
    endSession("Your session expired. Please sign in again.", null);
    return;
  }
  if (session && !isStaff(session)) {
    forget();
    session = null;
  }
  if (!session || name === "signin") {
    if (session && name === "signin") {
      go(returnTo ?? defaultRoute(session));
      returnTo = null;
      return;
    }
    if (name && name !== "signin") returnTo = location.hash;
    renderNav(null, "signin");
    clearNotices();
    document.title = "Sign in · Pizza console";
    main.replaceChildren();
    signInPage(main, {
      message: pendingSignInMessage,
      onSignedIn: (s) => {
        const target = returnTo;
        returnTo = null;
        const { name: wanted } = parseHashOf(target);
        const route = routes[wanted];
        go(target && route && route.allowed(s) ? target : defaultRoute(s));
      },
    });
    pendingSignInMessage = null;
    return;
  }
  const route = routes[name];
  if (!route) {
    go(defaultRoute(session));
    return;
  }
  if (!route.allowed(session)) {
    pendingStatus = `${route.title} is for admins only.`;
    go(defaultRoute(session));
    return;
  }
  clearNotices();
  if (pendingStatus) showStatus(pendingStatus);
  pendingStatus = null;
  renderNav(session, name);
  document.title = `${route.title} · Pizza console`;
  controller = new AbortController();
  const ctx: PageContext = { session, signal: controller.signal, rest, params, onLeave: (fn) => leaving.push(fn) };
  main.replaceChildren();
  main.dataset.page = name;
  try {
    route.render(main, ctx);
  } catch (e) {
    if (!isAbort(e)) showError(e, { context: `Could not show ${route.title}` });
  }
  // Move focus to the new page's heading, for keyboard and screen reader users.
  const heading = main.querySelector("h1");
  if (heading instanceof HTMLElement) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function parseHashOf(hash: string | null): { name: string } {
  if (!hash) return { name: "" };
  const path = hash.replace(/^#\/?/, "").split("?", 1)[0] ?? "";
  return { name: path.split("/")[0] ?? "" };
}

window.addEventListener("hashchange", () => void render());
window.addEventListener("unhandledrejection", (event) => {
  if (isAbort(event.reason)) {
    event.preventDefault();
    return;
  }
  showError(event.reason);
});
void render();
