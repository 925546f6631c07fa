// Sign in with a member id and password; only staff and admins get in.

import { ApiError, api } from "../api";
import { h } from "../dom";
import { clearErrors, Problem, showError, showStatus } from "../notices";
import { type Session, decodeToken, forget, isStaff, save } from "../session";

export interface SignInOptions {
  message: { text: string; requestId: string | null; kind: "error" | "info" } | null;
  onSignedIn(session: Session): void;
}

export function signInPage(main: HTMLElement, options: SignInOptions): void {
  const id = h("input", { id: "signin-id", name: "id", type: "text", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const pw = h("input", { id: "signin-pw", name: "pw", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "signin-submit" }, "Sign in");
  const form = h(
    "form",
    { class: "signin-form", "data-testid": "signin-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "signin-id" }, "Member id"), id),
    h("div", { class: "field" }, h("label", { for: "signin-pw" }, "Password"), pw),
    submit,
  );
  main.append(
    h(
      "section",
      { class: "signin", "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, "Sign in to the pizza console"),
      h("p", { class: "lede" }, "For the shop's kitchen staff and its owner."),
      form,
    ),
  );

  if (options.message) {
    const m = options.message;
    if (m.kind === "error") showError(new ApiError(401, m.text, null, m.requestId, null, false));
    else showStatus(m.text);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void signIn();
  });

  async function signIn(): Promise<void> {
    const memberId = id.value.trim();
    if (!memberId || !pw.value) {
      showError(new Problem("Enter your member id and password."));
      (memberId ? pw : id).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    clearErrors();
    try {
      const answer = await api.post<{ token: string }>("/api/login/", { id: memberId, pw: pw.value }, { auth: false });
      const session = decodeToken(answer.data.token);
      if (!session) throw new Error("The server's token could not be read.");
      if (!isStaff(session)) {
        // A plain member: give the token back and say why.
        save(session);
        try {
          await api.get("/api/login/logout/");
        } catch {
          // the message below is what matters
        }
        forget();
        throw new Problem("This console is for the shop's staff and owner; your account has no staff or admin role.");
      }
      save(session);
      pw.value = "";
      options.onSignedIn(session);
    } catch (e) {
      showError(e, { context: "Sign-in failed" });
      pw.select();
      pw.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  }
}
