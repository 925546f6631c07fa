// The sales dashboard: KPIs and Chart.js charts from GET /api/admin/sales/ for a date
// range and a branch (the whole range by default).

import { api } from "../api";
import { type Chart, type ChartConfiguration, PALETTE, draw } from "../charts";
import { type Child, count, h, money } from "../dom";
import { clearErrors, Problem, showError, showStatus } from "../notices";
import type { PageContext } from "../main";
import type { Branch, SalesReport } from "../types";

const SIZE_ORDER = ["S", "M", "L", "XL", "XXL"];

interface Filters {
  from: string;
  to: string;
  branch: string;
}

function tile(label: string, testid: string, unit?: string): { el: HTMLElement; value: HTMLElement } {
  const value = h("span", { class: "kpi-value", "data-testid": testid }, "…");
  return {
    value,
    el: h("div", { class: "kpi", role: "group", "aria-label": label }, h("span", { class: "kpi-label" }, label, unit ? h("span", { class: "kpi-unit" }, ` (${unit})`) : null), value),
  };
}

function dataTable(caption: string, headers: string[], rows: Child[][]): HTMLElement {
  return h(
    "details",
    { class: "chart-data" },
    h("summary", null, "Show the data"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        null,
        h("caption", { class: "visually-hidden" }, caption),
        h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", null, rows.map((r) => h("tr", null, r.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", null, c)))))),
      ),
    ),
  );
}

export function salesPage(main: HTMLElement, ctx: PageContext): void {
  const { signal } = ctx;
  const from = h("input", { id: "sales-from", type: "date", value: ctx.params.get("from") ?? "" });
  const to = h("input", { id: "sales-to", type: "date", value: ctx.params.get("to") ?? "" });
  const branch = h("select", { id: "sales-branch" }, h("option", { value: "" }, "All branches"));
  const wanted = ctx.params.get("branch") ?? "";
  if (wanted) branch.append(h("option", { value: wanted, selected: true }, wanted));
  const show = h("button", { type: "submit", class: "primary", "data-testid": "sales-show" }, "Show");
  const whole = h("button", { type: "button", class: "secondary" }, "Whole range");
  const form = h(
    "form",
    { class: "filters", "data-testid": "sales-filters" },
    h("div", { class: "field" }, h("label", { for: "sales-from" }, "From"), from),
    h("div", { class: "field" }, h("label", { for: "sales-to" }, "To"), to),
    h("div", { class: "field" }, h("label", { for: "sales-branch" }, "Branch"), branch),
    h("div", { class: "form-actions" }, show, whole),
  );
  const range = h("p", { class: "muted", "data-testid": "sales-range" });

  const revenue = tile("Revenue", "kpi-revenue", "USD");
  const orders = tile("Orders", "kpi-orders");
  const aov = tile("Average order value", "kpi-aov", "USD");
  const pizzas = tile("Pizzas sold", "kpi-pizzas");
  const top = tile("Best seller by revenue", "top-pizza");
  top.value.classList.add("kpi-text");
  const kpis = h("div", { class: "kpis" }, revenue.el, orders.el, aov.el, pizzas.el, top.el);

  const grid = h("div", { class: "charts" });
  const dashboard = h("section", { class: "sales", "data-testid": "sales", "data-state": "loading", "aria-busy": "true", "aria-label": "Sales figures" }, range, kpis, grid);
  main.append(h("h1", null, "Sales"), form, dashboard);

  let charts: Chart[] = [];
  function destroyCharts(): void {
    for (const c of charts) c.destroy();
    charts = [];
  }
  ctx.onLeave(destroyCharts);

  api
    .get<Branch[]>("/api/order/branch/", { signal, auth: false })
    .then((r) => {
      const current = branch.value;
      branch.replaceChildren(h("option", { value: "" }, "All branches"), ...(r.data ?? []).map((b) => h("option", { value: b.bran_id }, b.bran_nm && b.bran_nm !== b.bran_id ? `${b.bran_nm} (${b.bran_id})` : b.bran_id)));
      branch.value = current;
    })
    .catch((e) => showError(e, { context: "Could not list the branches" }));

  function filters(): Filters {
    return { from: from.value, to: to.value, branch: branch.value };
  }

  function remember(f: Filters): void {
    const q = new URLSearchParams();
    if (f.from) q.set("from", f.from);
    if (f.to) q.set("to", f.to);
    if (f.branch) q.set("branch", f.branch);
    const hash = `#/sales${q.size ? `?${q}` : ""}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void load(filters());
  });
  whole.addEventListener("click", () => {
    from.value = "";
    to.value = "";
    void load(filters());
  });

  function chartCard(title: string, kind: string, config: ChartConfiguration, table: HTMLElement, wide = false): void {
    const id = `chart-${grid.children.length + 1}`;
    const canvas = h("canvas", { role: "img", "aria-label": `${title} (${kind}); the data is in the table below the chart.` }, `${title}: see the data table.`);
    grid.append(
      h(
        "figure",
        { class: wide ? "chart chart-wide" : "chart", "aria-labelledby": id, "data-chart": title },
        h("figcaption", null, h("h2", { id }, title)),
        h("div", { class: "chart-box" }, canvas),
        table,
      ),
    );
    charts.push(draw(canvas, config));
  }

  function render(report: SalesReport): void {
    destroyCharts();
    grid.replaceChildren();
    const where = report.branch ? `branch ${report.branch}` : "all branches";
    range.textContent = report.from && report.to ? `${report.from} to ${report.to}, ${where}.` : `No orders, ${where}.`;
    if (!from.value && report.from) from.placeholder = report.from;
    if (!to.value && report.to) to.placeholder = report.to;

    const setKpi = (t: { value: HTMLElement }, value: number, text: string): void => {
      t.value.textContent = text;
      t.value.dataset.value = String(value);
    };
    setKpi(revenue, report.revenue, money(report.revenue));
    setKpi(orders, report.orders, count(report.orders));
    setKpi(aov, report.average_order_value, money(report.average_order_value));
    setKpi(pizzas, report.pizzas_sold, count(report.pizzas_sold));
    const best = report.pizzas[0];
    top.value.textContent = best ? best.name : "—";
    top.value.dataset.value = best ? best.name : "";
    top.value.title = best ? `${money(best.revenue)} USD from ${count(best.quantity)} pizzas` : "";

    const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
    const moneyTick = { callback: (v: string | number) => compact.format(Number(v)) };

    // Revenue by day
    chartCard(
      "Revenue by day",
      "line chart",
      {
        type: "line",
        data: {
          labels: report.by_day.map((d) => d.date),
          datasets: [{ label: "Revenue (USD)", data: report.by_day.map((d) => d.revenue), borderColor: PALETTE[0], backgroundColor: "rgba(31,95,168,0.12)", fill: true, pointRadius: 0, borderWidth: 1.5, tension: 0.2 }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          interaction: { mode: "index", intersect: false },
          scales: { x: { ticks: { maxTicksLimit: 12, autoSkip: true } }, y: { beginAtZero: true, ticks: moneyTick } },
          plugins: { legend: { display: false } },
        },
      },
      dataTable("Revenue by day", ["Date", "Orders", "Revenue (USD)"], report.by_day.map((d) => [d.date, count(d.orders), money(d.revenue)])),
      true,
    );

    // By hour of day: every hour between the first and the last with orders.
    const hours = report.by_hour.map((x) => x.hour);
    const first = hours.length ? Math.min(...hours) : 0;
    const last = hours.length ? Math.max(...hours) : 23;
    const byHour = Array.from({ length: last - first + 1 }, (_, i) => report.by_hour.find((x) => x.hour === first + i) ?? { hour: first + i, orders: 0, revenue: 0 });
    chartCard(
      "Revenue by hour of day",
      "bar chart",
      {
        type: "bar",
        data: {
          labels: byHour.map((x) => `${String(x.hour).padStart(2, "0")}:00`),
          datasets: [{ label: "Revenue (USD)", data: byHour.map((x) => x.revenue), backgroundColor: PALETTE[0] }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, ticks: moneyTick } },
          plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (item) => `Orders: ${byHour[item.dataIndex]?.orders ?? 0}` } } },
        },
      },
      dataTable("Revenue by hour of day", ["Hour", "Orders", "Revenue (USD)"], byHour.map((x) => [`${String(x.hour).padStart(2, "0")}:00`, count(x.orders), money(x.revenue)])),
    );

    // Top and bottom five pizzas by revenue (the list comes highest first).
    const topFive = report.pizzas.slice(0, 5);
    const bottomFive = report.pizzas.slice(-5).reverse();
    const pizzaBar = (list: SalesReport["pizzas"], color: string): ChartConfiguration => ({
      type: "bar",
      data: { labels: list.map((p) => p.name), datasets: [{ label: "Revenue (USD)", data: list.map((p) => p.revenue), backgroundColor: color }] },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { beginAtZero: true, ticks: moneyTick } },
        plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (item) => `Sold: ${list[item.dataIndex]?.quantity ?? 0}` } } },
      },
    });
    const pizzaRows = (list: SalesReport["pizzas"]): Child[][] => list.map((p) => [p.name, p.category, count(p.quantity), money(p.revenue)]);
    chartCard("Top 5 pizzas by revenue", "horizontal bar chart", pizzaBar(topFive, PALETTE[2] ?? "#009e73"), dataTable("Top 5 pizzas", ["Pizza", "Category", "Sold", "Revenue (USD)"], pizzaRows(topFive)));
    chartCard("Bottom 5 pizzas by revenue", "horizontal bar chart", pizzaBar(bottomFive, PALETTE[5] ?? "#d55e00"), dataTable("Bottom 5 pizzas", ["Pizza", "Category", "Sold", "Revenue (USD)"], pizzaRows(bottomFive)));

    // Sizes
    const sizes = [...report.sizes].sort((a, b) => {
      const ra = SIZE_ORDER.indexOf(a.size);
      const rb = SIZE_ORDER.indexOf(b.size);
      return (ra === -1 ? 99 : ra) - (rb === -1 ? 99 : rb);
    });
    chartCard(
      "Pizzas sold by size",
      "bar chart",
      {
        type: "bar",
        data: { labels: sizes.map((s) => s.size), datasets: [{ label: "Pizzas sold", data: sizes.map((s) => s.quantity), backgroundColor: PALETTE[1] }] },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          scales: { y: { beginAtZero: true } },
          plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (item) => `Revenue: ${money(sizes[item.dataIndex]?.revenue ?? 0)} USD` } } },
        },
      },
      dataTable("Sizes", ["Size", "Sold", "Revenue (USD)"], sizes.map((s) => [s.size, count(s.quantity), money(s.revenue)])),
    );

    // Category mix
    const totalQty = report.categories.reduce((sum, c) => sum + c.quantity, 0) || 1;
    chartCard(
      "Category mix (pizzas sold)",
      "doughnut chart",
      {
        type: "doughnut",
        data: {
          labels: report.categories.map((c) => c.category),
          datasets: [{ label: "Pizzas sold", data: report.categories.map((c) => c.quantity), backgroundColor: report.categories.map((_, i) => PALETTE[i % PALETTE.length] ?? "#888") }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          plugins: {
            legend: { position: "right" },
            tooltip: { callbacks: { label: (item) => `${item.label}: ${item.parsed} (${((Number(item.parsed) / totalQty) * 100).toFixed(1)} %)` } },
          },
        },
      },
      dataTable("Category mix", ["Category", "Sold", "Share", "Revenue (USD)"], report.categories.map((c) => [c.category, count(c.quantity), `${((c.quantity / totalQty) * 100).toFixed(1)} %`, money(c.revenue)])),
    );

    // Orders by branch
    chartCard(
      "Orders by branch",
      "bar chart",
      {
        type: "bar",
        data: {
          labels: report.branches.map((b) => (b.name && b.name !== b.branch_id ? b.name : b.branch_id)),
          datasets: [{ label: "Orders", data: report.branches.map((b) => b.orders), backgroundColor: PALETTE[4] }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          scales: { y: { beginAtZero: true } },
          plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (item) => `Revenue: ${money(report.branches[item.dataIndex]?.revenue ?? 0)} USD` } } },
        },
      },
      dataTable("Orders by branch", ["Branch", "Orders", "Revenue (USD)"], report.branches.map((b) => [b.name ? `${b.name} (${b.branch_id})` : b.branch_id, count(b.orders), money(b.revenue)])),
    );
  }

  let current: AbortController | null = null;
  async function load(f: Filters): Promise<void> {
    if (f.from && f.to && f.from > f.to) {
      showError(new Problem("“From” must not be after “To”."), { context: "Could not show the sales" });
      from.focus();
      return;
    }
    remember(f);
    current?.abort();
    const mine = new AbortController();
    current = mine;
    const both = AbortSignal.any([mine.signal, signal]);
    dashboard.dataset.state = "loading";
    dashboard.setAttribute("aria-busy", "true");
    show.disabled = true;
    const q = new URLSearchParams();
    if (f.from) q.set("from", f.from);
    if (f.to) q.set("to", f.to);
    if (f.branch) q.set("branch", f.branch);
    try {
      const answer = await api.get<SalesReport>(`/api/admin/sales/${q.size ? `?${q}` : ""}`, { signal: both });
      clearErrors();
      render(answer.data);
      dashboard.dataset.state = "ready";
      showStatus(answer.data.orders === 0 ? "No orders in this range." : `Sales: ${count(answer.data.orders)} orders, ${money(answer.data.revenue)} USD.`);
    } catch (e) {
      if (mine.signal.aborted) return;
      dashboard.dataset.state = "error";
      showError(e, { context: "Could not read the sales", retry: () => void load(f) });
    } finally {
      if (current === mine) {
        show.disabled = false;
        dashboard.removeAttribute("aria-busy");
      }
    }
  }

  void load(filters());
}
