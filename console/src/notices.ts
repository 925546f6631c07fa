// The console's two live regions (in index.html, so they exist before anything is said):
// #alerts (assertive) for errors, #status (polite) for confirmations and progress.
// Errors show the API's `detail`, and its `request_id` in small print.

import { ApiError, NetworkError, isAbort } from "./api";
import { h } from "./dom";

function region(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

/** A problem to tell the user as it is (a validation message, say), not a failure. */
export class Problem extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Problem";
  }
}

export interface ErrorOptions {
  /** What was being done, e.g. "Could not save The Greek Pizza (M)". */
  context?: string;
  /** Offer a Retry button that calls this. */
  retry?: () => void;
}

function dismissButton(notice: HTMLElement): HTMLButtonElement {
  return h("button", { type: "button", class: "link-button", onclick: () => notice.remove() }, "Dismiss");
}

/** Shows an error (replacing the one before). Aborted requests and ended sessions say nothing here. */
export function showError(e: unknown, options: ErrorOptions = {}): void {
  if (isAbort(e)) return;
  if (e instanceof ApiError && e.sessionEnded) return;
  let text: string;
  let requestId: string | null = null;
  let status: number | null = null;
  if (e instanceof ApiError) {
    text = e.detail;
    requestId = e.requestId;
    status = e.status;
    if (e.retryAfter !== null && (e.status === 429 || e.status === 503)) text += ` Try again in ${e.retryAfter} s.`;
  } else if (e instanceof NetworkError || e instanceof Problem) {
    text = e.message;
  } else if (e instanceof Error) {
    text = `Something went wrong: ${e.message}`;
  } else {
    text = `Something went wrong: ${String(e)}`;
  }
  const notice = h(
    "div",
    { class: "notice notice-error", "data-testid": "error", "data-status": status ?? undefined },
    h("p", null, options.context ? h("strong", null, `${options.context}: `) : null, h("span", { "data-testid": "error-detail" }, text)),
    requestId ? h("p", { class: "request-id" }, "Request id: ", h("code", null, requestId)) : null,
  );
  const actions = h("p", { class: "notice-actions" });
  if (options.retry) {
    const retry = options.retry;
    actions.append(h("button", { type: "button", onclick: () => { notice.remove(); retry(); } }, "Retry"));
  }
  actions.append(dismissButton(notice));
  notice.append(actions);
  region("alerts").replaceChildren(notice);
}

/** A confirmation or progress message (replacing the one before). */
export function showStatus(text: string, kind: "info" | "success" = "info"): void {
  region("status").replaceChildren(h("p", { class: `notice notice-${kind}`, "data-testid": "status-message" }, text));
}

export function clearErrors(): void {
  region("alerts").replaceChildren();
}

export function clearNotices(): void {
  region("alerts").replaceChildren();
  region("status").replaceChildren();
}
