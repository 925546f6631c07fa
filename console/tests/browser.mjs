// The console in a real browser (headless Chromium through playwright-core), against a
// running app. Run by the Rust e2e harness as `node console/tests/browser.mjs` with:
//   BASE_URL        the app, e.g. http://127.0.0.1:3000
//   STAFF_ID, STAFF_PW, STAFF_BRANCH   staff of that branch
//   ADMIN_ID, ADMIN_PW                 an admin
//   MEMBER_TOKEN    a plain member's token, to place an order through the API
//   SCREENSHOT_DIR  where the PNGs go (created if missing)
//   CHROMIUM        the browser (default /usr/bin/chromium)
//   WRONG_LOGIN_ID  optional: the id for the wrong-password check (default STAFF_ID)
// Prints one line `RESULT {json}` on stdout and exits 0, or says why on stderr, takes a
// screenshot of the failing page and exits 1.
//
// Logins: STAFF_ID twice (the wrong password, then the right one), ADMIN_ID once; the
// login throttle allows 5 password checks per id and address in 15 minutes.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
};

const BASE_URL = env("BASE_URL").replace(/\/+$/, "");
const STAFF_ID = env("STAFF_ID");
const STAFF_PW = env("STAFF_PW");
const STAFF_BRANCH = env("STAFF_BRANCH");
const ADMIN_ID = env("ADMIN_ID");
const ADMIN_PW = env("ADMIN_PW");
const MEMBER_TOKEN = env("MEMBER_TOKEN");
const SCREENSHOT_DIR = env("SCREENSHOT_DIR");
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const WRONG_LOGIN_ID = process.env.WRONG_LOGIN_ID || STAFF_ID;
const CONSOLE = `${BASE_URL}/console/`;
const PIZZA = { name: "The Greek Pizza", size: "M" };
const APPEAR_LIMIT_MS = 2000;
const TABLET = { width: 1024, height: 768 };
const DESKTOP = { width: 1440, height: 900 };

let step = "start";
let currentPage = null;
const pageErrors = [];

function log(message) {
  process.stderr.write(`[browser] ${message}\n`);
}

function fail(message) {
  throw new Error(`${step}: ${message}`);
}

async function shot(page, name, fullPage = true) {
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  log(`screenshot ${file}`);
}

/** The API, as the member (Node's fetch, not the browser). */
async function memberApi(method, path, body, headers = {}) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: {
      accept: "application/json",
      authorization: `Bearer ${MEMBER_TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { status: response.status, data };
}

function watch(page, label) {
  page.on("pageerror", (error) => {
    pageErrors.push(`${label}: ${error.message}`);
    log(`page error (${label}): ${error.message}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error") log(`console error (${label}): ${message.text()}`);
  });
}

async function signIn(page, id, pw) {
  await page.locator("#signin-id").fill(id);
  await page.locator("#signin-pw").fill(pw);
  const answer = page.waitForResponse((r) => r.url().endsWith("/api/login/") && r.request().method() === "POST");
  await page.locator('[data-testid="signin-submit"]').click();
  return answer;
}

async function main() {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    return await run(browser);
  } catch (error) {
    // Screenshot the failing page while the browser is still open.
    if (currentPage && !currentPage.isClosed()) {
      const file = join(SCREENSHOT_DIR, "failure.png");
      try {
        await currentPage.screenshot({ path: file, fullPage: true, timeout: 10000 });
        log(`screenshot of the failing page: ${file}`);
      } catch (e) {
        log(`no failure screenshot: ${e instanceof Error ? e.message : e}`);
      }
    }
    throw error;
  } finally {
    await browser.close().catch(() => {});
  }
}

async function run(browser) {
  // ---------------------------------------------------------------- staff, tablet
  const staffContext = await browser.newContext({ viewport: TABLET, hasTouch: true });
  staffContext.setDefaultTimeout(15000);
  const staff = await staffContext.newPage();
  currentPage = staff;
  watch(staff, "staff");

  step = "sign-in page";
  await staff.goto(CONSOLE, { waitUntil: "load" });
  await staff.locator('[data-testid="signin-form"]').waitFor();
  await shot(staff, "signin");

  step = "wrong password";
  const refused = await signIn(staff, WRONG_LOGIN_ID, `${STAFF_PW}-wrong-${Date.now()}`);
  if (refused.status() !== 401) fail(`login with a wrong password answered ${refused.status()}, not 401`);
  const refusal = await refused.json();
  if (!refusal?.detail) fail(`the 401 has no detail: ${JSON.stringify(refusal)}`);
  const shown = staff.locator('[data-testid="alerts"] [data-testid="error-detail"]');
  await shown.waitFor();
  const shownText = (await shown.textContent())?.trim();
  if (shownText !== refusal.detail) fail(`the page shows ${JSON.stringify(shownText)}, the API said ${JSON.stringify(refusal.detail)}`);
  if (!(await staff.locator('[data-testid="signin-form"]').isVisible())) fail("the sign-in form is gone after a 401");
  await shot(staff, "signin-error");
  log(`wrong password: the page shows "${shownText}"`);

  step = "staff signs in";
  const accepted = await signIn(staff, STAFF_ID, STAFF_PW);
  if (accepted.status() !== 200) fail(`staff login answered ${accepted.status()}: ${await accepted.text()}`);
  await staff.goto(`${CONSOLE}#/board/${encodeURIComponent(STAFF_BRANCH)}`);
  const board = staff.locator(`[data-testid="board"][data-branch="${STAFF_BRANCH}"]`);
  await board.waitFor();
  // The first page is read and the long-poll is waiting for the next change.
  await staff.locator(`[data-testid="board"][data-branch="${STAFF_BRANCH}"][data-poll="waiting"]`).waitFor({ timeout: 15000 });
  // Let the `?after=` request reach the server before the order is placed.
  await staff.waitForTimeout(300);

  step = "order appears on the board";
  const placed = await memberApi("POST", "/api/order/", { branchId: STAFF_BRANCH, lines: [{ name: PIZZA.name, size: PIZZA.size, quantity: 1 }] }, { "idempotency-key": `console-browser-${Date.now()}-${Math.random().toString(36).slice(2)}` });
  const placedAt = Date.now();
  if (placed.status !== 201) fail(`placing the order answered ${placed.status}: ${JSON.stringify(placed.data)}`);
  const orderId = placed.data.order_id;
  const card = staff.locator(`[data-testid="board"] [data-order-id="${orderId}"]`);
  await card.waitFor({ timeout: 10000 });
  const appearedMs = Date.now() - placedAt;
  log(`order ${orderId} appeared on the board ${appearedMs} ms after it was placed`);
  if (appearedMs > APPEAR_LIMIT_MS) fail(`order ${orderId} took ${appearedMs} ms to appear (limit ${APPEAR_LIMIT_MS} ms)`);
  await shot(staff, "board");

  step = "moving the order through the kitchen";
  let state = (await memberApi("GET", `/api/order/${orderId}/`)).data?.state;
  const path = [];
  for (let moves = 0; state !== "completed"; moves++) {
    if (moves >= 6) fail(`order ${orderId} is still ${state} after ${moves} moves`);
    await card.locator(`xpath=self::*[@data-state="${state}"]`).waitFor({ timeout: 5000 }).catch(() => fail(`the card of order ${orderId} does not show state ${state}`));
    const button = card.locator('[data-testid="next-move"]');
    const to = await button.getAttribute("data-to");
    if (!to) fail(`the card of order ${orderId} (${state}) has no next move`);
    const moved = staff.waitForResponse((r) => r.url().includes(`/api/order/${orderId}/transition/`) && r.request().method() === "POST");
    await button.click();
    const answer = await moved;
    if (answer.status() !== 200) fail(`moving order ${orderId} to ${to} answered ${answer.status()}: ${await answer.text()}`);
    const now = await memberApi("GET", `/api/order/${orderId}/`);
    if (now.status !== 200) fail(`reading order ${orderId} answered ${now.status}`);
    if (now.data.state !== to) fail(`after the "${to}" click the API says order ${orderId} is ${now.data.state}`);
    log(`order ${orderId}: ${state} → ${now.data.state} (version ${now.data.version})`);
    path.push(now.data.state);
    state = now.data.state;
  }
  step = "the completed order leaves the board";
  await card.waitFor({ state: "detached", timeout: 5000 });
  await staff.waitForTimeout(200);
  await shot(staff, "board-after");
  await staffContext.close();

  // ---------------------------------------------------------------- admin, desktop
  const adminContext = await browser.newContext({ viewport: DESKTOP });
  adminContext.setDefaultTimeout(20000);
  const admin = await adminContext.newPage();
  currentPage = admin;
  watch(admin, "admin");

  step = "admin signs in";
  await admin.goto(`${CONSOLE}#/menu`, { waitUntil: "load" });
  const adminLogin = await signIn(admin, ADMIN_ID, ADMIN_PW);
  if (adminLogin.status() !== 200) fail(`admin login answered ${adminLogin.status()}: ${await adminLogin.text()}`);

  step = "menu admin: change a price";
  const menu = await (await fetch(`${BASE_URL}/api/menu/`, { cache: "no-store" })).json();
  const pizza = menu.find((p) => p.pizza_type__pizza_nm === PIZZA.name && p.size === PIZZA.size);
  if (!pizza) fail(`${PIZZA.name} ${PIZZA.size} is not on GET /api/menu/`);
  const row = admin.locator(`[data-testid="menu-row"][data-pizza-id="${pizza.pizza_id}"]`);
  await row.waitFor();
  const shownPrice = Number(await row.locator('[data-testid="price"]').inputValue());
  if (Math.abs(shownPrice - pizza.price) > 0.001) fail(`the page shows ${shownPrice} for ${pizza.pizza_id}, the menu says ${pizza.price}`);
  const newPrice = Math.round((pizza.price + (pizza.price + 1 <= 10000 ? 1 : -1)) * 100) / 100;
  await row.locator('[data-testid="price"]').fill(newPrice.toFixed(2));
  const patched = admin.waitForResponse((r) => r.url().includes(`/api/admin/menu/${pizza.pizza_id}/`) && r.request().method() === "PATCH");
  await row.locator('[data-testid="save"]').click();
  const patchAnswer = await patched;
  if (patchAnswer.status() !== 200) fail(`saving the price answered ${patchAnswer.status()}: ${await patchAnswer.text()}`);
  const after = await (await fetch(`${BASE_URL}/api/menu/`, { cache: "no-store" })).json();
  const nowPrice = after.find((p) => p.pizza_id === pizza.pizza_id)?.price;
  if (Math.abs(nowPrice - newPrice) > 0.001) fail(`GET /api/menu/ says ${nowPrice} for ${pizza.pizza_id}, not ${newPrice}`);
  log(`${pizza.pizza_id}: ${pizza.price} → ${nowPrice}`);
  const auditRow = admin.locator(`[data-testid="audit-menu"] tr[data-subject="pizza:${pizza.pizza_id}"]`).filter({ hasText: newPrice.toFixed(2) }).first();
  await auditRow.waitFor({ timeout: 10000 }).catch(() => fail(`the audit trail on the page shows no change of pizza:${pizza.pizza_id} to ${newPrice.toFixed(2)}`));
  log(`audit trail: ${(await auditRow.locator('[data-testid="audit-change"]').textContent())?.trim()}`);
  await shot(admin, "menu");

  step = "branches and staff";
  await admin.goto(`${CONSOLE}#/branches`);
  await admin.locator('[data-testid="branches-table"] tbody tr').first().waitFor();
  await admin.locator('[data-testid="grants-table"] tbody tr').first().waitFor();
  await shot(admin, "branches");

  step = "sales dashboard";
  await admin.goto(`${CONSOLE}#/sales`);
  await admin.locator('[data-testid="sales"][data-state="ready"]').waitFor({ timeout: 60000 });
  const kpi = async (id) => {
    const value = await admin.locator(`[data-testid="${id}"]`).getAttribute("data-value");
    const n = Number(value);
    if (value === null || value === "" || !Number.isFinite(n)) fail(`${id} has no numeric data-value (${value})`);
    return n;
  };
  const kpis = { revenue: await kpi("kpi-revenue"), orders: await kpi("kpi-orders"), aov: await kpi("kpi-aov"), pizzas: await kpi("kpi-pizzas") };
  const topPizza = (await admin.locator('[data-testid="top-pizza"]').textContent())?.trim() ?? "";
  if (!topPizza || topPizza === "—") fail("no best-selling pizza shown");
  if (kpis.orders <= 0) fail(`the dashboard shows ${kpis.orders} orders for the whole range`);
  const charts = await admin.locator(".charts figure canvas").count();
  if (charts < 6) fail(`only ${charts} charts drawn`);
  log(`sales: revenue ${kpis.revenue}, orders ${kpis.orders}, average ${kpis.aov}, pizzas ${kpis.pizzas}, best seller ${topPizza}, ${charts} charts`);
  await admin.waitForTimeout(300);
  await shot(admin, "sales");

  if (pageErrors.length) fail(`uncaught errors in the page: ${pageErrors.join("; ")}`);
  await adminContext.close();
  return { board_appeared_ms: appearedMs, order_id: orderId, moves: path, kpis, top_pizza: topPizza, new_price: newPrice };
}

const guard = setTimeout(() => {
  process.stderr.write(`[browser] FAILED: ${step}: the whole run took over 180 s\n`);
  process.exit(1);
}, 180_000);

main()
  .then((result) => {
    clearTimeout(guard);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    process.exit(0);
  })
  .catch((error) => {
    clearTimeout(guard);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[browser] FAILED: ${message.startsWith(`${step}:`) ? message : `${step}: ${message}`}\n`);
    if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  });
