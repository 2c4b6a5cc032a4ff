// The CLI's only way to anonbranch: its HTTP API. Errors become CliErrors
// carrying the API's own message, with an exit code by kind (4xx: refused,
// 5xx and network: unavailable).
import { CliError, EXIT } from "./exit.ts";

const REQUEST_TIMEOUT_MS = 30_000;

/** `http://host:8080` and `http://host:8080/api/v2` both name the API. */
export function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`API URL "${url}" is not a URL (set ANONBRANCH_API_URL or --api-url, e.g. http://127.0.0.1:8080)`, EXIT.usage);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CliError(`API URL "${url}" must start with http:// or https://`, EXIT.usage);
  }
  const path = parsed.pathname.replace(/\/+$/, "");
  parsed.pathname = path.endsWith("/api/v2") ? path : `${path}/api/v2`;
  return parsed.toString().replace(/\/$/, "");
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: () => Promise<string>,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${await this.token()}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new CliError(`cannot reach the API at ${this.baseUrl}: ${cause}`, EXIT.unavailable);
    }
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.ok) {
      if (parsed === undefined) throw new CliError(`${method} ${path}: the API answered ${res.status} without JSON`, EXIT.unavailable);
      return parsed as T;
    }
    const message = typeof parsed?.message === "string" ? parsed.message : `HTTP ${res.status} ${res.statusText}`;
    const details = { status: res.status, code: parsed?.code, request_id: parsed?.request_id ?? res.headers.get("x-request-id") ?? undefined };
    throw new CliError(message, res.status < 500 ? EXIT.refused : EXIT.unavailable, details);
  }
}

export const isStatus = (error: unknown, status: number): boolean =>
  error instanceof CliError && error.details.status === status;
