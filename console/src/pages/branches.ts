// Branches and staff: rename, open and close branches, add one; every role grant; look a
// member up and set their roles (PUT replaces the whole set), or cut off their tokens.

import { api, request, seg } from "../api";
import { auditTrail } from "../audit";
import { h } from "../dom";
import { Problem, showError, showStatus } from "../notices";
import type { PageContext } from "../main";
import type { AdminBranch, Branch, MemberRoles, RoleGrant } from "../types";

export function branchesPage(main: HTMLElement, ctx: PageContext): void {
  const { signal } = ctx;
  let branches: Branch[] = [];
  const open = new Map<string, boolean>();

  // --- branches -----------------------------------------------------------------
  const branchBody = h("tbody");
  const branchState = h("p", { class: "muted", "aria-live": "polite" }, "Loading the branches…");
  const newId = h("input", { id: "new-branch-id", type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const newName = h("input", { id: "new-branch-name", type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const addForm = h(
    "form",
    { class: "inline-form", "data-testid": "add-branch" },
    h("div", { class: "field" }, h("label", { for: "new-branch-id" }, "New branch id"), newId),
    h("div", { class: "field" }, h("label", { for: "new-branch-name" }, "Name"), newName),
    h("button", { type: "submit", class: "primary" }, "Add branch"),
  );

  // --- roles --------------------------------------------------------------------
  const grantsBody = h("tbody");
  const grantsState = h("p", { class: "muted", "aria-live": "polite" }, "Loading the role grants…");
  const memberInput = h("input", { id: "roles-member", type: "text", required: true, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const lookupForm = h(
    "form",
    { class: "inline-form", "data-testid": "lookup-member" },
    h("div", { class: "field" }, h("label", { for: "roles-member" }, "Member id"), memberInput),
    h("button", { type: "submit", class: "secondary" }, "Look up"),
  );
  const editor = h("div", { class: "role-editor", "data-testid": "role-editor", "aria-live": "polite" });

  const trail = auditTrail({
    title: "Recent changes to branches and roles",
    testid: "audit-branches",
    keep: (e) => e.subject.startsWith("branch:") || e.subject.startsWith("member:"),
    signal,
    onError: (e, retry) => showError(e, { context: "Could not read the audit trail", retry }),
  });

  main.append(
    h("h1", null, "Branches and staff"),
    h(
      "section",
      { "aria-labelledby": "branches-title" },
      h("h2", { id: "branches-title" }, "Branches"),
      h("p", { class: "lede" }, "A closed branch refuses new orders."),
      branchState,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "data-testid": "branches-table" },
          h("caption", { class: "visually-hidden" }, "Branches"),
          h("thead", null, h("tr", null, h("th", { scope: "col" }, "Id"), h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Open or close"))),
          branchBody,
        ),
      ),
      h("h3", null, "Add a branch"),
      addForm,
    ),
    h(
      "section",
      { "aria-labelledby": "roles-title" },
      h("h2", { id: "roles-title" }, "Staff and admins"),
      h("p", { class: "lede" }, "Roles take effect at the member's next sign-in. To take a role away at once, also sign them out everywhere."),
      h("h3", null, "Set a member's roles"),
      lookupForm,
      editor,
      h("h3", null, "Every role grant"),
      grantsState,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "data-testid": "grants-table" },
          h("caption", { class: "visually-hidden" }, "Role grants"),
          h("thead", null, h("tr", null, h("th", { scope: "col" }, "Member"), h("th", { scope: "col" }, "Role"), h("th", { scope: "col" }, "Branch"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Edit")))),
          grantsBody,
        ),
      ),
    ),
    trail.element,
  );

  function branchRow(b: Branch): HTMLTableRowElement {
    const isOpen = open.get(b.bran_id) ?? true;
    const nameId = `branch-name-${b.bran_id}`;
    const name = h("input", { id: nameId, type: "text", value: b.bran_nm, maxlength: 100, autocomplete: "off", "data-testid": "branch-name" });
    const rename = h("button", { type: "button", class: "secondary", "aria-label": `Rename branch ${b.bran_id}` }, "Rename");
    const toggle = h(
      "button",
      { type: "button", class: isOpen ? "danger" : "primary", "data-testid": "branch-toggle", "aria-label": `${isOpen ? "Close" : "Open"} branch ${b.bran_id}` },
      isOpen ? "Close" : "Open",
    );
    rename.addEventListener("click", () => void change(b, { bran_nm: name.value.trim() }, rename));
    name.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        void change(b, { bran_nm: name.value.trim() }, rename);
      }
    });
    toggle.addEventListener("click", () => void change(b, { is_open: !isOpen }, toggle));
    return h(
      "tr",
      { "data-branch-id": b.bran_id, "data-open": String(isOpen) },
      h("th", { scope: "row" }, b.bran_id),
      h("td", null, h("div", { class: "inline-edit" }, h("label", { for: nameId, class: "visually-hidden" }, `Name of branch ${b.bran_id}`), name, rename)),
      h("td", null, h("span", { class: isOpen ? "badge badge-open" : "badge badge-closed" }, isOpen ? "Open" : "Closed")),
      h("td", null, toggle),
    );
  }

  function renderBranches(): void {
    branchBody.replaceChildren(...branches.map(branchRow));
    branchState.textContent = branches.length ? "" : "No branches yet.";
  }

  async function change(b: Branch, body: { bran_nm?: string; is_open?: boolean }, button: HTMLButtonElement): Promise<void> {
    if (body.bran_nm !== undefined && !body.bran_nm) {
      showError(new Problem("A branch needs a name."), { context: `Could not rename branch ${b.bran_id}` });
      return;
    }
    button.disabled = true;
    try {
      const answer = await api.patch<AdminBranch>(`/api/admin/branches/${seg(b.bran_id)}/`, body, { signal });
      const now = answer.data;
      open.set(now.bran_id, now.is_open);
      branches = branches.map((x) => (x.bran_id === now.bran_id ? { bran_id: now.bran_id, bran_nm: now.bran_nm } : x));
      renderBranches();
      showStatus(`Branch ${now.bran_id}: ${now.bran_nm}, ${now.is_open ? "open" : "closed"}.`, "success");
      branchBody.querySelector<HTMLElement>(`[data-branch-id="${CSS.escape(now.bran_id)}"] ${body.is_open !== undefined ? '[data-testid="branch-toggle"]' : '[data-testid="branch-name"]'}`)?.focus();
      void trail.reload();
    } catch (e) {
      button.disabled = false;
      showError(e, { context: `Could not change branch ${b.bran_id}`, retry: () => void change(b, body, button) });
    }
  }

  async function loadBranches(): Promise<void> {
    try {
      const list = await api.get<{ branches: AdminBranch[] }>("/api/admin/branches/", { signal });
      branches = (list.data?.branches ?? []).map((b) => ({ bran_id: b.bran_id, bran_nm: b.bran_nm }));
      for (const b of list.data?.branches ?? []) open.set(b.bran_id, b.is_open);
      renderBranches();
    } catch (e) {
      branchState.textContent = "The branches could not be read.";
      showError(e, { context: "Could not read the branches", retry: () => void loadBranches() });
    }
  }

  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void addBranch();
  });
  async function addBranch(): Promise<void> {
    const body = { bran_id: newId.value.trim(), bran_nm: newName.value.trim() };
    if (!body.bran_id || !body.bran_nm) {
      showError(new Problem("A new branch needs an id and a name."), { context: "Could not add the branch" });
      (body.bran_id ? newName : newId).focus();
      return;
    }
    try {
      const answer = await api.post<AdminBranch>("/api/admin/branches/", body, { signal });
      open.set(answer.data.bran_id, answer.data.is_open);
      branches = [...branches.filter((b) => b.bran_id !== answer.data.bran_id), { bran_id: answer.data.bran_id, bran_nm: answer.data.bran_nm }].sort((a, b) =>
        a.bran_id < b.bran_id ? -1 : a.bran_id > b.bran_id ? 1 : 0,
      );
      renderBranches();
      newId.value = "";
      newName.value = "";
      showStatus(`Branch ${answer.data.bran_id} (${answer.data.bran_nm}) added, open.`, "success");
      void trail.reload();
    } catch (e) {
      showError(e, { context: "Could not add the branch" });
    }
  }

  // --- grants -------------------------------------------------------------------
  async function loadGrants(): Promise<void> {
    try {
      const answer = await api.get<{ roles: RoleGrant[] }>("/api/admin/roles/", { signal });
      const grants = [...(answer.data?.roles ?? [])].sort((a, b) => a.member_id.localeCompare(b.member_id) || a.role.localeCompare(b.role) || (a.branch_id ?? "").localeCompare(b.branch_id ?? ""));
      grantsBody.replaceChildren(
        ...grants.map((g) =>
          h(
            "tr",
            { "data-member-id": g.member_id, "data-role": g.role },
            h("th", { scope: "row" }, g.member_id),
            h("td", null, g.role === "admin" ? "Admin" : "Staff"),
            h("td", null, g.branch_id ?? (g.role === "admin" ? "every branch" : "—")),
            h("td", null, h("button", { type: "button", class: "link-button", "aria-label": `Edit the roles of ${g.member_id}`, onclick: () => { memberInput.value = g.member_id; void lookup(); } }, "Edit")),
          ),
        ),
      );
      grantsState.textContent = grants.length ? `${grants.length} grants.` : "Nobody has a role yet.";
    } catch (e) {
      grantsState.textContent = "The role grants could not be read.";
      showError(e, { context: "Could not read the role grants", retry: () => void loadGrants() });
    }
  }

  lookupForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void lookup();
  });

  async function lookup(): Promise<void> {
    const memberId = memberInput.value.trim();
    if (!memberId) {
      showError(new Problem("Enter a member id."), { context: "Could not look the member up" });
      memberInput.focus();
      return;
    }
    editor.replaceChildren(h("p", { class: "muted" }, `Looking up ${memberId}…`));
    try {
      const answer = await api.get<MemberRoles>(`/api/admin/members/${seg(memberId)}/roles/`, { signal });
      showEditor(answer.data);
    } catch (e) {
      editor.replaceChildren();
      showError(e, { context: `Could not look up ${memberId}` });
      memberInput.focus();
    }
  }

  function showEditor(roles: MemberRoles): void {
    const admin = h("input", { id: "role-admin", type: "checkbox", checked: roles.admin, "data-testid": "role-admin" });
    const known = new Set(branches.map((b) => b.bran_id));
    const choices = [...branches.map((b) => ({ id: b.bran_id, name: b.bran_nm })), ...roles.staff.filter((id) => !known.has(id)).map((id) => ({ id, name: id }))];
    const boxes = choices.map((c) => {
      const box = h("input", { id: `role-staff-${c.id}`, type: "checkbox", value: c.id, checked: roles.staff.includes(c.id), "data-testid": "role-staff" });
      return { box, el: h("label", { for: box.id, class: "checkbox" }, box, ` ${c.name && c.name !== c.id ? `${c.name} (${c.id})` : c.id}`) };
    });
    const save = h("button", { type: "submit", class: "primary", "data-testid": "save-roles" }, "Save roles");
    const revoke = h("button", { type: "button", class: "danger" }, "Sign them out everywhere");
    const form = h(
      "form",
      { "data-member-id": roles.member_id },
      h("h4", null, `Roles of ${roles.member_id}`),
      h("label", { for: "role-admin", class: "checkbox" }, admin, " Admin (runs the whole shop)"),
      h("fieldset", null, h("legend", null, "Staff of"), boxes.length ? boxes.map((b) => b.el) : h("p", { class: "muted" }, "No branches.")),
      h("div", { class: "form-actions" }, save, revoke),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void saveRoles();
    });
    revoke.addEventListener("click", () => void revokeTokens());
    editor.replaceChildren(form);
    admin.focus();

    async function saveRoles(): Promise<void> {
      const body = { admin: admin.checked, staff: boxes.filter((b) => b.box.checked).map((b) => b.box.value) };
      save.disabled = true;
      try {
        const answer = await api.put<MemberRoles>(`/api/admin/members/${seg(roles.member_id)}/roles/`, body, { signal });
        const now = answer.data;
        const what = [now.admin ? "admin" : null, now.staff.length ? `staff of ${now.staff.join(", ")}` : null].filter(Boolean).join(" and ") || "no roles";
        showStatus(`${now.member_id} now has ${what}; it takes effect at their next sign-in.`, "success");
        void loadGrants();
        void trail.reload();
      } catch (e) {
        showError(e, { context: `Could not save the roles of ${roles.member_id}` });
      } finally {
        save.disabled = false;
      }
    }

    async function revokeTokens(): Promise<void> {
      if (!window.confirm(`Sign ${roles.member_id} out on every device now?`)) return;
      try {
        await request("POST", `/api/admin/members/${seg(roles.member_id)}/revoke-tokens/`, { signal });
        showStatus(`${roles.member_id} is signed out everywhere.`, "success");
        void trail.reload();
      } catch (e) {
        showError(e, { context: `Could not sign ${roles.member_id} out` });
      }
    }
  }

  void loadBranches();
  void loadGrants();
  void trail.reload();
}
