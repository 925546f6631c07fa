// The one way the console talks to the API: same origin, JSON, Bearer token.
// Every failure becomes an ApiError (the server's JSON `detail` and `request_id`) or a
// NetworkError (no answer at all); a 401 on an authenticated call ends the session.

import type { ErrorBody } from "./types";
import { load } from "./session";

export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly requestId: string | null;
  readonly body: ErrorBody | null;
  /** Seconds, from `Retry-After` (429, 503). */
  readonly retryAfter: number | null;
  /** A 401 on an authenticated call: the sign-in page already says so. */
  readonly sessionEnded: boolean;

  constructor(status: number, detail: string, body: ErrorBody | null, requestId: string | null, retryAfter: number | null, sessionEnded: boolean) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.body = body;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
    this.sessionEnded = sessionEnded;
  }
}

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkError";
  }
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === "AbortError";
}

export interface Answer<T> {
  status: number;
  data: T;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  ifMatch?: string | number;
  signal?: AbortSignal;
  /** Send the session's token (default true). */
  auth?: boolean;
  headers?: Record<string, string>;
}

let unauthorized: (error: ApiError) => void = () => {};

/** What to do when the server refuses the session's token (the app goes to sign-in). */
export function onUnauthorized(handler: (error: ApiError) => void): void {
  unauthorized = handler;
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204 || response.status === 304) return null;
  const text = await response.text();
  if (!text) return null;
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json") || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function describe(status: number, statusText: string): string {
  if (status === 502 || status === 503 || status === 504) return `The service is unavailable right now (HTTP ${status}). Try again shortly.`;
  return `The server answered HTTP ${status}${statusText ? ` ${statusText}` : ""}.`;
}

/** Sends a request; resolves for 2xx and 304, throws ApiError or NetworkError otherwise. */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  const useAuth = options.auth !== false;
  const session = useAuth ? load() : null;
  if (session) headers.authorization = `Bearer ${session.token}`;
  if (options.ifMatch !== undefined) headers["if-match"] = `"${options.ifMatch}"`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, signal: options.signal, cache: "no-store", credentials: "same-origin" });
  } catch (e) {
    if (isAbort(e)) throw e;
    throw new NetworkError("The server cannot be reached. Check the connection and try again.");
  }
  let data: unknown;
  try {
    data = await readBody(response);
  } catch (e) {
    if (isAbort(e)) throw e;
    throw new NetworkError("The answer was cut off. Check the connection and try again.");
  }
  if ((response.status >= 200 && response.status < 300) || response.status === 304) {
    return { status: response.status, data: data as T, headers: response.headers };
  }
  const errorBody = typeof data === "object" && data !== null && typeof (data as ErrorBody).detail === "string" ? (data as ErrorBody) : null;
  const detail = errorBody?.detail ?? describe(response.status, response.statusText);
  const requestId = errorBody?.request_id ?? response.headers.get("x-request-id");
  const retry = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
  const sessionEnded = response.status === 401 && session !== null;
  const error = new ApiError(response.status, detail, errorBody, requestId, Number.isFinite(retry) ? retry : null, sessionEnded);
  if (sessionEnded) unauthorized(error);
  throw error;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>("GET", path, options),
  post: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>("POST", path, { ...options, body }),
  put: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>("PUT", path, { ...options, body }),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>("PATCH", path, { ...options, body }),
};

/** A path segment, escaped. */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}
