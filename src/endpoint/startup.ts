// The client's StartupMessage: its parameters, the `options` parameter (Neon's
// `endpoint=ep-…` and `-c k=v` / `--k=v`), and which of them may reach the
// backend. The backend never sees the client's user, database or replication
// request: those come from the route.
import { ProtocolViolation } from "./wire.ts";

export interface ParsedStartup {
  minorVersion: number;
  params: Map<string, string>;
  /** `_pq_.*` protocol options we do not support (answered with NegotiateProtocolVersion). */
  protocolOptions: string[];
}

/** Parses a StartupMessage packet (length word included) whose code is 3.x. */
export function parseStartupMessage(packet: Buffer): ParsedStartup {
  const minorVersion = packet.readUInt16BE(6);
  if (packet[packet.length - 1] !== 0) {
    throw new ProtocolViolation("08P01", "invalid startup packet layout: expected terminator as last byte");
  }
  const params = new Map<string, string>();
  const protocolOptions: string[] = [];
  let at = 8;
  const next = (): string => {
    const end = packet.indexOf(0, at);
    if (end < 0) throw new ProtocolViolation("08P01", "invalid startup packet layout");
    const text = packet.toString("utf8", at, end);
    at = end + 1;
    return text;
  };
  while (at < packet.length - 1) {
    const name = next();
    if (name === "") break;
    if (at >= packet.length) throw new ProtocolViolation("08P01", `invalid startup packet layout: missing value for "${name}"`);
    const value = next();
    if (name.startsWith("_pq_.")) protocolOptions.push(name);
    else params.set(name, value);
  }
  return { minorVersion, params, protocolOptions };
}

/** Case-insensitive parameter lookup (GUC names are case-insensitive). */
export function param(params: Map<string, string>, name: string): string | undefined {
  const direct = params.get(name);
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of params) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** True for `replication=true|on|yes|1|database` (a walsender connection). */
export function wantsReplication(params: Map<string, string>): boolean {
  const value = param(params, "replication");
  return value !== undefined && !["false", "off", "no", "0"].includes(value.toLowerCase());
}

/** Splits `options` like PostgreSQL: on whitespace, a backslash escapes the next character. */
export function splitOptions(raw: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let inToken = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === "\\" && i + 1 < raw.length) {
      current += raw[++i];
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) tokens.push(current);
      current = "";
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (inToken) tokens.push(current);
  return tokens;
}

const escapeOption = (token: string): string => token.replace(/[\\\s]/g, (c) => `\\${c}`);

export interface ParsedOptions {
  /** "endpoint" → ep-…, and each `-c k=v` / `--k=v` setting (k → v). */
  parsed: Map<string, string>;
  /** The options to forward: everything but `endpoint=…`, re-escaped; null when nothing is left. */
  forwarded: string | null;
}

function setting(text: string, parsed: Map<string, string>): void {
  const eq = text.indexOf("=");
  if (eq > 0) parsed.set(text.slice(0, eq), text.slice(eq + 1));
}

export function parseOptions(raw: string | undefined): ParsedOptions {
  const parsed = new Map<string, string>();
  if (raw === undefined) return { parsed, forwarded: null };
  const kept: string[] = [];
  const tokens = splitOptions(raw);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith("endpoint=")) {
      // Neon's convention for naming the endpoint when SNI is not available.
      parsed.set("endpoint", token.slice("endpoint=".length));
      continue;
    }
    kept.push(token);
    if (token === "-c" && i + 1 < tokens.length) {
      kept.push(tokens[++i]!);
      setting(tokens[i]!, parsed);
    } else if (token.startsWith("-c")) {
      setting(token.slice(2), parsed);
    } else if (token.startsWith("--")) {
      // PostgreSQL reads --name=value with dashes in the name meaning underscores.
      const body = token.slice(2);
      const eq = body.indexOf("=");
      if (eq > 0) parsed.set(body.slice(0, eq).replace(/-/g, "_"), body.slice(eq + 1));
    }
  }
  return { parsed, forwarded: kept.length > 0 ? kept.map(escapeOption).join(" ") : null };
}

/** Client settings that change only the session's own behaviour; everything else stays behind. */
const FORWARDED_PARAMS = new Set([
  "application_name",
  "client_encoding",
  "datestyle",
  "timezone",
  "intervalstyle",
  "extra_float_digits",
  "search_path",
]);

/**
 * The startup parameters sent to the backend: the client's safe ones, its
 * `options` without `endpoint=`, then the route's extras, then the route's
 * user and database (which nothing can override).
 */
export function backendStartupParams(
  clientParams: Map<string, string>,
  forwardedOptions: string | null,
  target: { user: string; database: string; params?: Record<string, string> },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of clientParams) {
    if (FORWARDED_PARAMS.has(name.toLowerCase())) out[name] = value;
  }
  if (forwardedOptions !== null) out.options = forwardedOptions;
  for (const [name, value] of Object.entries(target.params ?? {})) {
    const lower = name.toLowerCase();
    if (lower === "user" || lower === "database" || lower === "replication") continue;
    for (const existing of Object.keys(out)) if (existing.toLowerCase() === lower) delete out[existing];
    out[name] = value;
  }
  out.user = target.user;
  out.database = target.database;
  return out;
}
