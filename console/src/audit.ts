// The admin audit trail (`GET /api/admin/audit/`), newest first, as a table.

import { api } from "./api";
import { h } from "./dom";
import type { AuditEntry, AuditPage } from "./types";

const MONEY_FIELDS = new Set(["price"]);

function show(value: unknown, key = ""): string {
  if (MONEY_FIELDS.has(key) && (typeof value === "number" || (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))))) {
    return Number(value).toFixed(2);
  }
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === "string") return /^-?\d+\.\d+$/.test(value) ? Number(value).toFixed(2) : value;
  if (Array.isArray(value)) return value.length ? value.map((v) => show(v)).join(", ") : "none";
  return JSON.stringify(value);
}

const FIELD_NAMES: Record<string, string> = {
  price: "price",
  sold_out: "sold out",
  bran_nm: "name",
  is_open: "open",
  admin: "admin",
  staff: "staff of",
};

/** "price 16.00 → 17.00; sold out no → yes": only what changed (everything, for a creation). */
export function describeChange(entry: AuditEntry): string {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const parts: string[] = [];
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    if (entry.before && JSON.stringify(a) === JSON.stringify(b)) continue;
    const name = FIELD_NAMES[key] ?? key.replace(/_/g, " ");
    parts.push(entry.before ? `${name} ${show(a, key)} → ${show(b, key)}` : `${name} ${show(b, key)}`);
  }
  return parts.length ? parts.join("; ") : "no change";
}

export function formatAt(at: string): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at;
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export interface AuditTrail {
  element: HTMLElement;
  reload(): Promise<void>;
}

/**
 * A table of the audit entries `keep` selects, reading pages of 50 until it has
 * `want` of them (or the trail ends), with "Show older" for more.
 */
export function auditTrail(options: {
  title: string;
  testid: string;
  keep(entry: AuditEntry): boolean;
  want?: number;
  signal: AbortSignal;
  onError(e: unknown, retry: () => void): void;
}): AuditTrail {
  const want = options.want ?? 20;
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show older entries");
  const state = h("p", { class: "muted", "aria-live": "polite" });
  const titleId = `${options.testid}-title`;
  const element = h(
    "section",
    { class: "audit", "aria-labelledby": titleId, "data-testid": options.testid },
    h("h2", { id: titleId }, options.title),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        null,
        h("caption", { class: "visually-hidden" }, options.title),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "When"), h("th", { scope: "col" }, "Who"), h("th", { scope: "col" }, "What"), h("th", { scope: "col" }, "Subject"), h("th", { scope: "col" }, "Change"))),
        body,
      ),
    ),
    state,
    more,
  );
  let cursor: number | null = null;
  let exhausted = false;

  function row(e: AuditEntry): HTMLTableRowElement {
    return h(
      "tr",
      { "data-audit-id": e.audit_id, "data-action": e.action, "data-subject": e.subject },
      h("td", null, h("time", { datetime: e.at }, formatAt(e.at))),
      h("td", null, e.actor),
      h("td", null, e.action),
      h("td", null, e.subject),
      h("td", { "data-testid": "audit-change" }, describeChange(e)),
    );
  }

  async function fetchMore(reset: boolean): Promise<void> {
    if (reset) {
      cursor = null;
      exhausted = false;
    }
    const found: AuditEntry[] = [];
    state.textContent = "Loading…";
    more.hidden = true;
    try {
      // Read pages until enough entries match (bounded, so a long unrelated trail stays cheap).
      for (let pages = 0; pages < 10 && found.length < want && !exhausted; pages++) {
        const query = new URLSearchParams({ limit: "50" });
        if (cursor !== null) query.set("cursor", String(cursor));
        const page = await api.get<AuditPage>(`/api/admin/audit/?${query}`, { signal: options.signal });
        found.push(...(page.data?.entries ?? []).filter(options.keep));
        cursor = page.data?.next_cursor ?? null;
        if (cursor === null) exhausted = true;
      }
      if (reset) body.replaceChildren();
      body.append(...found.map(row));
      state.textContent = body.children.length === 0 ? "No changes recorded yet." : "";
      more.hidden = exhausted;
    } catch (e) {
      state.textContent = "The audit trail could not be read.";
      more.hidden = exhausted;
      options.onError(e, () => void fetchMore(reset));
    }
  }
  more.addEventListener("click", () => void fetchMore(false));
  return { element, reload: () => fetchMore(true) };
}
