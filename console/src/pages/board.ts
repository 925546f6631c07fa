// The kitchen board: a branch's open orders in columns by state, kept live with the
// queue's long-poll (one request open at a time: `?after=<marker>` answers at the first
// change, or 304 after ~25 s, and is asked again), one click per move with If-Match.

import { ApiError, NetworkError, api, isAbort, seg } from "../api";
import { describePizza, pizzaNames, type PizzaName } from "../catalog";
import { h } from "../dom";
import { clearErrors, showError, showStatus } from "../notices";
import type { PageContext } from "../main";
import type { Branch, OrderMoved, OrderState, QueuedOrder, QueuePage } from "../types";

const BRANCH_KEY = "pizza-console.branch";

interface Column {
  key: string;
  title: string;
  states: OrderState[];
}

const COLUMNS: Column[] = [
  { key: "new", title: "New", states: ["placed", "paid"] },
  { key: "accepted", title: "Accepted", states: ["accepted"] },
  { key: "baking", title: "Baking", states: ["baking"] },
  { key: "ready", title: "Ready", states: ["ready"] },
];

const OPEN: OrderState[] = ["placed", "paid", "accepted", "baking", "ready"];

/** Staff's moves (crates/pizza/src/order/lifecycle.rs), to show a card's next move at
 * once after a click; the next answer of the queue is the authority. */
const STAFF_NEXT: Partial<Record<OrderState, OrderState[]>> = {
  placed: ["accepted", "cancelled"],
  paid: ["accepted", "cancelled"],
  accepted: ["baking", "cancelled"],
  baking: ["ready", "cancelled"],
  ready: ["completed"],
};

const MOVE_LABEL: Partial<Record<OrderState, string>> = {
  accepted: "Accept",
  baking: "Start baking",
  ready: "Mark ready",
  completed: "Complete",
};

const STATE_LABEL: Record<OrderState, string> = {
  placed: "Placed",
  payment_pending: "Payment pending",
  paid: "Paid",
  payment_failed: "Payment failed",
  accepted: "Accepted",
  baking: "Baking",
  ready: "Ready",
  completed: "Completed",
  cancelled: "Cancelled",
  refund_pending: "Refund pending",
  refunded: "Refunded",
};

function rememberedBranch(): string | null {
  try {
    return sessionStorage.getItem(BRANCH_KEY);
  } catch {
    return null;
  }
}

function rememberBranch(id: string): void {
  try {
    sessionStorage.setItem(BRANCH_KEY, id);
  } catch {
    // not remembered
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

function nextMove(order: QueuedOrder): OrderState | undefined {
  return order.next.find((s) => s !== "cancelled");
}

function orderTime(order: QueuedOrder): string {
  const time = order.time ? order.time.slice(0, 5) : "";
  const today = new Date();
  const iso = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
  if (order.date && order.date !== iso) return `${order.date} ${time}`.trim();
  return time;
}

export function boardPage(main: HTMLElement, ctx: PageContext): void {
  const { session } = ctx;
  const heading = h("h1", null, "Kitchen board");
  const picker = h("select", { id: "board-branch", "data-testid": "branch-picker" });
  const pickerField = h("div", { class: "field inline" }, h("label", { for: "board-branch" }, "Branch"), picker);
  const liveText = h("span", { class: "live-text" }, "Connecting…");
  const retryNow = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => refreshNow() }, "Retry now");
  const live = h("p", { class: "live", "data-testid": "live" }, h("span", { class: "live-dot", "aria-hidden": "true" }), liveText, " ", retryNow);
  const board = h("section", { class: "board", "data-testid": "board", "data-poll": "loading", "aria-label": "Open orders" });
  main.append(h("div", { class: "page-head" }, heading, pickerField, live), board);

  const lists = new Map<string, { list: HTMLOListElement; count: HTMLSpanElement }>();
  for (const column of COLUMNS) {
    const count = h("span", { class: "count", "data-testid": `count-${column.key}` }, "0");
    const titleId = `col-${column.key}`;
    const list = h("ol", { class: "cards", "aria-labelledby": titleId });
    lists.set(column.key, { list, count });
    board.append(
      h("section", { class: `column column-${column.key}`, "data-column": column.key }, h("h2", { id: titleId }, column.title, " ", count), list),
    );
  }

  // --- the branch ---------------------------------------------------------------
  const staffBranches = session.roles.staff;
  let branch = ctx.rest[0] ?? rememberedBranch() ?? (session.roles.admin ? null : staffBranches[0] ?? null);
  if (branch && !session.roles.admin && !staffBranches.includes(branch)) {
    // Not this member's kitchen: show theirs, and say so in the address too.
    branch = staffBranches[0] ?? null;
    if (branch) history.replaceState(null, "", `#/board/${encodeURIComponent(branch)}`);
  }

  function fillPicker(branches: Branch[]): void {
    const allowed = session.roles.admin ? branches : branches.filter((b) => staffBranches.includes(b.bran_id));
    // Staff branches the list does not name still get an option.
    for (const id of staffBranches) if (!allowed.some((b) => b.bran_id === id)) allowed.push({ bran_id: id, bran_nm: id });
    picker.replaceChildren(...allowed.map((b) => h("option", { value: b.bran_id }, b.bran_nm && b.bran_nm !== b.bran_id ? `${b.bran_nm} (${b.bran_id})` : b.bran_id)));
    if (!branch && allowed[0]) {
      go(allowed[0].bran_id);
      return;
    }
    if (branch) {
      picker.value = branch;
      const named = allowed.find((b) => b.bran_id === branch);
      if (named && named.bran_nm && named.bran_nm !== named.bran_id) heading.textContent = `Kitchen board · ${named.bran_nm}`;
    }
    pickerField.hidden = allowed.length <= 1;
  }

  function go(id: string): void {
    rememberBranch(id);
    location.hash = `#/board/${encodeURIComponent(id)}`;
  }

  picker.addEventListener("change", () => go(picker.value));
  fillPicker(staffBranches.map((id) => ({ bran_id: id, bran_nm: id })));
  api
    .get<Branch[]>("/api/order/branch/", { auth: false, signal: ctx.signal })
    .then((r) => fillPicker(r.data ?? []))
    .catch((e) => {
      if (session.roles.admin && !branch) showError(e, { context: "Could not list the branches", retry: () => location.reload() });
    });
  if (!branch) {
    liveText.textContent = session.roles.admin ? "Choose a branch." : "You are not staff of any branch.";
    board.dataset.poll = "stopped";
    return;
  }
  const branchId: string = branch;
  rememberBranch(branchId);
  board.dataset.branch = branchId;
  heading.textContent = `Kitchen board · branch ${branchId}`;

  // --- the orders ---------------------------------------------------------------
  const orders = new Map<number, QueuedOrder>();
  /** Orders that left the board here, by the version they left at: a late answer
   * of the queue from before the move must not bring them back. */
  const gone = new Map<number, number>();
  const cards = new Map<number, { el: HTMLLIElement; key: string }>();
  const busy = new Set<number>();
  let names = new Map<string, PizzaName>();
  let loaded = false;

  void pizzaNames(session).then((found) => {
    names = found;
    cards.clear();
    render();
  });

  function cardKey(o: QueuedOrder): string {
    return `${o.version}|${o.state}|${o.next.join(",")}|${busy.has(o.order_id)}|${names.size}`;
  }

  function card(o: QueuedOrder): HTMLLIElement {
    const to = nextMove(o);
    const titleId = `order-${o.order_id}-title`;
    const isBusy = busy.has(o.order_id);
    const moveButton = to
      ? h(
          "button",
          {
            type: "button",
            class: "primary big",
            "data-testid": "next-move",
            "data-to": to,
            "aria-describedby": titleId,
            disabled: isBusy,
            onclick: () => void move(o.order_id, to),
          },
          MOVE_LABEL[to] ?? `Move to ${STATE_LABEL[to]}`,
        )
      : null;
    const cancelButton = o.next.includes("cancelled")
      ? h(
          "button",
          { type: "button", class: "danger", "data-testid": "cancel", "aria-describedby": titleId, disabled: isBusy, onclick: () => askCancel(o.order_id) },
          "Cancel…",
        )
      : null;
    return h(
      "li",
      { class: `card state-${o.state}`, "data-order-id": o.order_id, "data-state": o.state, "data-version": o.version, "aria-busy": isBusy ? "true" : undefined },
      h(
        "article",
        { "aria-labelledby": titleId },
        h(
          "header",
          { class: "card-head" },
          h("h3", { id: titleId }, `Order #${o.order_id}`),
          h("span", { class: "badge" }, STATE_LABEL[o.state] ?? o.state),
        ),
        h("p", { class: "card-meta" }, h("time", { "data-testid": "order-time" }, orderTime(o)), o.member_id ? ` · ${o.member_id}` : ""),
        h(
          "ul",
          { class: "lines" },
          o.lines.map((l) => h("li", null, h("span", { class: "qty" }, `${l.quantity} ×`), " ", describePizza(names, l.pizza_id))),
        ),
        moveButton || cancelButton ? h("div", { class: "card-actions" }, moveButton, cancelButton) : null,
      ),
    );
  }

  function render(): void {
    // Where the focus was, to put it back on the same card's button.
    const active = document.activeElement;
    const focusedCard = active instanceof HTMLElement ? active.closest<HTMLElement>("[data-order-id]") : null;
    const focusedId = focusedCard ? Number(focusedCard.dataset.orderId) : null;
    const focusedRole = active instanceof HTMLElement ? active.dataset.testid : undefined;

    const sorted = [...orders.values()].sort((a, b) => a.order_id - b.order_id);
    for (const column of COLUMNS) {
      const target = lists.get(column.key);
      if (!target) continue;
      const wanted: HTMLLIElement[] = [];
      for (const o of sorted) {
        const inColumn = column.states.includes(o.state) || (column.key === "new" && !COLUMNS.some((c) => c.states.includes(o.state)));
        if (!inColumn) continue;
        const key = cardKey(o);
        let entry = cards.get(o.order_id);
        if (!entry || entry.key !== key) {
          entry = { el: card(o), key };
          cards.set(o.order_id, entry);
        }
        wanted.push(entry.el);
      }
      target.count.textContent = String(wanted.length);
      const current = [...target.list.children];
      if (wanted.length === 0) {
        if (!(current.length === 1 && current[0]?.classList.contains("empty"))) target.list.replaceChildren(h("li", { class: "empty" }, "No orders"));
      } else if (current.length !== wanted.length || current.some((el, i) => el !== wanted[i])) {
        target.list.replaceChildren(...wanted);
      }
    }
    for (const id of [...cards.keys()]) if (!orders.has(id)) cards.delete(id);

    if (focusedId !== null && (document.activeElement === document.body || document.activeElement === null)) {
      const el = board.querySelector<HTMLElement>(`[data-order-id="${focusedId}"]`);
      const button =
        el?.querySelector<HTMLButtonElement>(`[data-testid="${focusedRole ?? "next-move"}"]:not([disabled])`) ??
        el?.querySelector<HTMLButtonElement>("button:not([disabled])");
      if (button) button.focus();
      else board.querySelector<HTMLElement>(".column h2")?.focus();
    }
  }

  function merge(fresh: QueuedOrder[]): void {
    const before = new Set(orders.keys());
    const next = new Map<number, QueuedOrder>();
    for (const o of fresh) {
      const left = gone.get(o.order_id);
      if (left !== undefined && o.version <= left) continue;
      const mine = orders.get(o.order_id);
      // A move made here that this answer does not know of yet.
      next.set(o.order_id, mine && mine.version > o.version ? mine : o);
    }
    orders.clear();
    for (const [id, o] of next) orders.set(id, o);
    const arrived = [...orders.keys()].filter((id) => !before.has(id));
    if (loaded && arrived.length > 0) showStatus(arrived.length === 1 ? `New order #${arrived[0]}.` : `New orders: ${arrived.map((id) => `#${id}`).join(", ")}.`);
    loaded = true;
    render();
  }

  // --- moves --------------------------------------------------------------------
  async function move(orderId: number, to: OrderState, reason?: string): Promise<void> {
    const order = orders.get(orderId);
    if (!order || busy.has(orderId)) return;
    busy.add(orderId);
    render();
    try {
      const body = reason === undefined ? { to } : { to, reason };
      const answer = await api.post<OrderMoved>(`/api/order/${seg(orderId)}/transition/`, body, { ifMatch: order.version, signal: ctx.signal });
      const moved = answer.data;
      busy.delete(orderId);
      const current = orders.get(orderId);
      if (!OPEN.includes(moved.state)) {
        orders.delete(orderId);
        gone.set(orderId, moved.version);
      } else if (current) {
        orders.set(orderId, { ...current, state: moved.state, version: moved.version, next: STAFF_NEXT[moved.state] ?? [] });
      }
      showStatus(`Order #${orderId}: ${STATE_LABEL[moved.state] ?? moved.state}.`, "success");
      render();
    } catch (e) {
      busy.delete(orderId);
      render();
      if (isAbort(e)) return;
      if (e instanceof ApiError && e.status === 412) {
        showError(e, { context: `Order #${orderId} changed meanwhile; the board is being brought up to date, try again` });
        refreshNow();
      } else if (e instanceof ApiError && e.status === 409) {
        const now = e.body?.state ? ` It is ${STATE_LABEL[e.body.state] ?? e.body.state} now.` : "";
        showError(new ApiError(409, `${e.detail}${now}`, e.body, e.requestId, null, false), { context: `Order #${orderId} cannot move` });
        refreshNow();
      } else {
        showError(e, { context: `Could not move order #${orderId}`, retry: () => void move(orderId, to, reason) });
      }
    }
  }

  // --- cancel with a reason -----------------------------------------------------
  const reason = h("textarea", { id: "cancel-reason", name: "reason", rows: 3, maxlength: 500, required: true, "data-testid": "cancel-reason" });
  const dialogTitle = h("h2", { id: "cancel-title" }, "Cancel order");
  const keep = h("button", { type: "button", class: "secondary" }, "Keep the order");
  const confirm = h("button", { type: "submit", class: "danger", "data-testid": "cancel-confirm" }, "Cancel the order");
  const dialogError = h("p", { class: "field-error", id: "cancel-reason-error", "aria-live": "assertive" });
  const dialogForm = h(
    "form",
    { method: "dialog", novalidate: true },
    dialogTitle,
    h("div", { class: "field" }, h("label", { for: "cancel-reason" }, "Reason for cancelling (required)"), reason, dialogError),
    h("div", { class: "dialog-actions" }, keep, confirm),
  );
  const dialog = h("dialog", { "aria-labelledby": "cancel-title", "data-testid": "cancel-dialog" }, dialogForm);
  main.append(dialog);
  let cancelling: number | null = null;
  reason.setAttribute("aria-describedby", dialogError.id);

  function askCancel(orderId: number): void {
    cancelling = orderId;
    dialogTitle.textContent = `Cancel order #${orderId}`;
    reason.value = "";
    dialogError.textContent = "";
    dialog.showModal();
    reason.focus();
  }
  keep.addEventListener("click", () => dialog.close());
  dialogForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      dialogError.textContent = "Say why the order is cancelled.";
      reason.focus();
      return;
    }
    const orderId = cancelling;
    dialog.close();
    if (orderId !== null) void move(orderId, "cancelled", text);
  });
  dialog.addEventListener("close", () => {
    const orderId = cancelling;
    cancelling = null;
    if (orderId !== null) board.querySelector<HTMLElement>(`[data-order-id="${orderId}"] [data-testid="cancel"]`)?.focus();
  });
  ctx.onLeave(() => {
    if (dialog.open) dialog.close();
  });

  // --- the long-poll ------------------------------------------------------------
  let marker: number | null = null;
  let poll: AbortController | null = null;
  let wake: AbortController | null = null;
  let failures = 0;
  let troubleShown = false;

  async function readQueue(after: number | null, signal: AbortSignal): Promise<{ marker: number; orders: QueuedOrder[] } | null> {
    const query = new URLSearchParams({ branch: branchId, limit: "100" });
    if (after !== null) query.set("after", String(after));
    const first = await api.get<QueuePage>(`/api/order/queue/?${query}`, { signal });
    if (first.status === 304 || !first.data) return null;
    const all = [...first.data.orders];
    let cursor = first.data.next_cursor;
    while (cursor !== null && cursor !== undefined) {
      const more = new URLSearchParams({ branch: branchId, limit: "100", cursor: String(cursor) });
      const page = await api.get<QueuePage>(`/api/order/queue/?${more}`, { signal });
      all.push(...(page.data?.orders ?? []));
      cursor = page.data?.next_cursor ?? null;
    }
    return { marker: first.data.marker, orders: all };
  }

  function setLive(state: "loading" | "waiting" | "error" | "stopped", text: string): void {
    board.dataset.poll = state;
    live.dataset.state = state;
    liveText.textContent = text;
    retryNow.hidden = state !== "error";
  }

  /** Stops waiting and reads the queue afresh now. */
  function refreshNow(): void {
    marker = null;
    poll?.abort();
    wake?.abort();
  }

  async function loop(): Promise<void> {
    while (!ctx.signal.aborted) {
      poll = new AbortController();
      const stop = poll;
      const onLeave = (): void => stop.abort();
      ctx.signal.addEventListener("abort", onLeave, { once: true });
      try {
        if (marker === null) setLive("loading", "Loading…");
        const page = await readQueue(marker, stop.signal);
        failures = 0;
        if (troubleShown) {
          clearErrors();
          troubleShown = false;
        }
        if (page) {
          marker = page.marker;
          board.dataset.marker = String(page.marker);
          merge(page.orders);
        }
        setLive("waiting", `Live · updated ${new Date().toLocaleTimeString()}`);
      } catch (e) {
        if (isAbort(e)) {
          if (ctx.signal.aborted) return;
          continue; // refreshNow(): ask again at once
        }
        if (e instanceof ApiError && e.sessionEnded) return;
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) {
          setLive("stopped", "Not live.");
          showError(e, { context: `The board of branch ${branchId} cannot be shown`, retry: () => { refreshNow(); void loop(); } });
          return;
        }
        failures += 1;
        const seconds = e instanceof ApiError && e.retryAfter ? Math.min(e.retryAfter, 60) : Math.min(30, 2 ** (failures - 1));
        setLive("error", `Connection lost; retrying in ${seconds} s.`);
        showError(e instanceof NetworkError ? new NetworkError("The live board lost its connection to the server.") : e, {
          context: "Not live",
          retry: () => refreshNow(),
        });
        troubleShown = true;
        marker = null;
        wake = new AbortController();
        const wakeSignal = wake.signal;
        const both = AbortSignal.any ? AbortSignal.any([wakeSignal, ctx.signal]) : wakeSignal;
        await sleep(seconds * 1000, both);
      } finally {
        ctx.signal.removeEventListener("abort", onLeave);
      }
    }
  }

  ctx.onLeave(() => {
    poll?.abort();
    wake?.abort();
  });
  void loop();
}
