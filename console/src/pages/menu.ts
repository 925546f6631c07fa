// Menu admin: every pizza's price and sold-out flag, saved one row at a time
// (PATCH /api/admin/menu/{pizza_id}/), with the catalogue's audit trail below.

import { ApiError, api, seg } from "../api";
import { auditTrail } from "../audit";
import { h, money } from "../dom";
import { Problem, showError, showStatus } from "../notices";
import type { PageContext } from "../main";
import type { AdminPizza, CatalogPizza } from "../types";

const SIZE_ORDER = ["S", "M", "L", "XL", "XXL"];

function sizeRank(size: string): number {
  const i = SIZE_ORDER.indexOf(size);
  return i === -1 ? SIZE_ORDER.length : i;
}

/** The price typed, in cents-exact dollars, or an explanation. */
export function parsePrice(text: string): number | string {
  const trimmed = text.trim().replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(trimmed)) return "Enter a price like 12.50 (at most two decimals).";
  const value = Math.round(Number(trimmed) * 100) / 100;
  if (!(value > 0)) return "The price must be more than 0.";
  if (value > 10000) return "The price must be at most 10000.";
  return value;
}

export function menuPage(main: HTMLElement, ctx: PageContext): void {
  const filter = h("input", { id: "menu-filter", type: "search", placeholder: "Name, category or size", autocomplete: "off" });
  const body = h("tbody");
  const summary = h("p", { class: "muted", "aria-live": "polite" }, "Loading the catalogue…");
  const table = h(
    "table",
    { class: "menu-table", "data-testid": "menu-table" },
    h("caption", null, "The catalogue (sold-out pizzas included)"),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col" }, "Pizza"),
        h("th", { scope: "col" }, "Category"),
        h("th", { scope: "col" }, "Size"),
        h("th", { scope: "col" }, "Price (USD)"),
        h("th", { scope: "col" }, "Sold out"),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Save")),
      ),
    ),
    body,
  );
  const trail = auditTrail({
    title: "Recent menu changes",
    testid: "audit-menu",
    keep: (e) => e.subject.startsWith("pizza:") || e.action.startsWith("menu.") || e.action.startsWith("pizza."),
    signal: ctx.signal,
    onError: (e, retry) => showError(e, { context: "Could not read the audit trail", retry }),
  });
  main.append(
    h("h1", null, "Menu"),
    h("p", { class: "lede" }, "Prices and availability. New orders pay the new price; orders already placed keep theirs. A sold-out pizza leaves the public menu."),
    h("div", { class: "toolbar" }, h("div", { class: "field inline" }, h("label", { for: "menu-filter" }, "Find a pizza"), filter)),
    summary,
    h("div", { class: "table-wrap scroll", tabindex: 0, role: "region", "aria-label": "The catalogue (scrolls)" }, table),
    trail.element,
  );

  const rows: { el: HTMLTableRowElement; text: string }[] = [];

  function applyFilter(): void {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const r of rows) {
      const visible = words.every((w) => r.text.includes(w));
      r.el.hidden = !visible;
      if (visible) shown += 1;
    }
    summary.textContent = `${shown} of ${rows.length} pizzas shown.`;
  }
  filter.addEventListener("input", applyFilter);

  function row(p: CatalogPizza): HTMLTableRowElement {
    const label = `${p.name} (${p.size})`;
    const saved = { price: p.price, sold_out: p.sold_out };
    const priceId = `price-${p.pizza_id}`;
    const soldId = `sold-${p.pizza_id}`;
    const price = h("input", {
      id: priceId,
      type: "text",
      inputmode: "decimal",
      value: money(p.price),
      size: 8,
      autocomplete: "off",
      "data-testid": "price",
    });
    const soldOut = h("input", { id: soldId, type: "checkbox", checked: p.sold_out, "data-testid": "sold-out" });
    const save = h("button", { type: "button", class: "primary", "data-testid": "save", "aria-label": `Save ${label}` }, "Save");
    const tr = h(
      "tr",
      { "data-pizza-id": p.pizza_id, "data-testid": "menu-row", class: p.sold_out ? "sold-out" : undefined },
      h("th", { scope: "row" }, p.name),
      h("td", null, p.category),
      h("td", null, p.size),
      h("td", null, h("label", { for: priceId, class: "visually-hidden" }, `Price of ${label}`), price),
      h("td", null, h("label", { for: soldId, class: "checkbox" }, soldOut, h("span", { class: "visually-hidden" }, `${label} is sold out`), h("span", { "aria-hidden": "true" }, "Sold out"))),
      h("td", null, save),
    );

    function dirty(): void {
      const parsed = parsePrice(price.value);
      const changed = typeof parsed !== "number" || parsed !== saved.price || soldOut.checked !== saved.sold_out;
      tr.classList.toggle("dirty", changed);
    }
    price.addEventListener("input", () => {
      price.removeAttribute("aria-invalid");
      dirty();
    });
    soldOut.addEventListener("change", dirty);
    price.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        void doSave();
      }
    });
    save.addEventListener("click", () => void doSave());

    async function doSave(): Promise<void> {
      const parsed = parsePrice(price.value);
      if (typeof parsed !== "number") {
        price.setAttribute("aria-invalid", "true");
        showError(new Problem(parsed), { context: `Could not save ${label}` });
        price.focus();
        return;
      }
      const change: { price?: number; sold_out?: boolean } = {};
      if (parsed !== saved.price) change.price = parsed;
      if (soldOut.checked !== saved.sold_out) change.sold_out = soldOut.checked;
      if (change.price === undefined && change.sold_out === undefined) {
        showStatus(`${label}: nothing to save.`);
        return;
      }
      save.disabled = true;
      save.textContent = "Saving…";
      try {
        const answer = await api.patch<AdminPizza>(`/api/admin/menu/${seg(p.pizza_id)}/`, change, { signal: ctx.signal });
        saved.price = answer.data.price;
        saved.sold_out = answer.data.sold_out;
        price.value = money(saved.price);
        soldOut.checked = saved.sold_out;
        tr.classList.toggle("sold-out", saved.sold_out);
        tr.classList.remove("dirty");
        tr.dataset.savedPrice = money(saved.price);
        showStatus(`Saved ${label}: ${money(saved.price)}, ${saved.sold_out ? "sold out" : "on sale"}.`, "success");
        void trail.reload();
      } catch (e) {
        if (e instanceof ApiError && e.status === 400) price.setAttribute("aria-invalid", "true");
        showError(e, { context: `Could not save ${label}`, retry: () => void doSave() });
      } finally {
        save.disabled = false;
        save.textContent = "Save";
      }
    }
    return tr;
  }

  async function load(): Promise<void> {
    try {
      const answer = await api.get<{ pizzas: CatalogPizza[] }>("/api/admin/menu/", { signal: ctx.signal });
      const pizzas = [...(answer.data?.pizzas ?? [])].sort(
        (a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name) || sizeRank(a.size) - sizeRank(b.size),
      );
      rows.length = 0;
      body.replaceChildren(
        ...pizzas.map((p) => {
          const el = row(p);
          rows.push({ el, text: `${p.name} ${p.category} ${p.size} ${p.pizza_id}`.toLowerCase() });
          return el;
        }),
      );
      table.dataset.loaded = "true";
      applyFilter();
    } catch (e) {
      summary.textContent = "The catalogue could not be read.";
      showError(e, { context: "Could not read the catalogue", retry: () => void load() });
    }
  }
  void load();
  void trail.reload();
}
