// The signed-in member: the token (kept in sessionStorage, so it dies with the tab)
// and what its payload says. The roles claim is `{"admin"?: true, "staff"?: [branch ids]}`
// (crates/pizza/src/roles.rs); plain members' tokens have no `roles` at all. The server
// checks every request anyway: this only decides what the console offers.

const KEY = "pizza-console.token";

export interface Roles {
  admin: boolean;
  staff: string[];
}

export interface Session {
  token: string;
  memberId: string;
  roles: Roles;
  /** Seconds since the epoch, when the token stops working (0 if it does not say). */
  exp: number;
}

function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The session a token describes, or null if it is not a readable JWT. */
export function decodeToken(token: string): Session | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(base64UrlDecode(parts[1]));
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null) return null;
  const c = claims as Record<string, unknown>;
  if (typeof c.member_id !== "string") return null;
  const raw = (typeof c.roles === "object" && c.roles !== null ? c.roles : {}) as Record<string, unknown>;
  const staff = Array.isArray(raw.staff) ? raw.staff.filter((b): b is string => typeof b === "string") : [];
  return {
    token,
    memberId: c.member_id,
    roles: { admin: raw.admin === true, staff },
    exp: typeof c.exp === "number" ? c.exp : 0,
  };
}

let current: Session | null = null;

export function load(): Session | null {
  if (current) return current;
  let token: string | null = null;
  try {
    token = sessionStorage.getItem(KEY);
  } catch {
    token = null;
  }
  current = token ? decodeToken(token) : null;
  return current;
}

export function save(session: Session): void {
  current = session;
  try {
    sessionStorage.setItem(KEY, session.token);
  } catch {
    // Storage may be off (private mode): the session lives in memory for this page.
  }
}

export function forget(): void {
  current = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing to do
  }
}

export function expired(session: Session, nowMs = Date.now()): boolean {
  return session.exp > 0 && session.exp * 1000 <= nowMs;
}

export function isStaff(session: Session): boolean {
  return session.roles.admin || session.roles.staff.length > 0;
}
