// The endpoint engine's contract with whoever decides who may connect where
// (the coordinator, through control/). The engine itself knows nothing about
// projects or branches: it asks lookup() for a route, authenticates the client
// against the route's verifier, and only then asks the route for a backend.
import type { Logger } from "../lib/log.ts";

/** A SCRAM-SHA-256 verifier as PostgreSQL stores it (never the password). */
export interface ScramVerifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Sent to the client as a FATAL ErrorResponse, then the connection closes. */
export type Refusal = { kind: "refuse"; sqlstate: string; message: string; detail?: string };

export interface StartupInfo {
  /** The engine port the client connected to (one port per endpoint, or a shared one). */
  localPort: number;
  /** TLS SNI server name, when the client sent one (libpq does for host names, not for IPs). */
  serverName: string | null;
  tls: boolean;
  user: string;
  /** `database` startup parameter; defaults to the user name like PostgreSQL. */
  database: string;
  /**
   * Parsed from the `options` startup parameter: Neon's `endpoint=ep-…` (key
   * "endpoint"), `-c k=v` and `--k=v` (key k).
   */
  options: Map<string, string>;
  /** Every startup parameter as sent (names as the client spelled them). */
  params: Map<string, string>;
  remoteAddress: string;
}

export interface BackendTarget {
  /** Host name or IP; a path starting with "/" is a Unix socket directory (like libpq). */
  host: string;
  port: number;
  /** libpq's meaning: "require" encrypts without verifying the server certificate. */
  ssl: "disable" | "prefer" | "require";
  user: string;
  password: string;
  database: string;
  /** Extra startup parameters for the backend (application_name …); they win over the client's. */
  params?: Record<string, string>;
  /**
   * Wraps the backend login (the coordinator opens and closes a login window
   * around it, and may set user/password first). An error carrying a
   * `refusal` is sent to the client as is; any other becomes a neutral 08006.
   */
  login<T extends { pid: number }>(authenticate: () => Promise<T>): Promise<T>;
}

export interface Route {
  verifier: ScramVerifier;
  /** Called only after the client authenticated against `verifier`. */
  open(): Promise<Refusal | BackendTarget>;
}

export interface EndpointLimits {
  /** Connections held at once (handshaking and relaying); over it clients get 53300. */
  maxClients: number;
  /** From accept until the relay starts (TLS, startup, both authentications). */
  authTimeoutMs: number;
  /** A relayed session idle (no query in flight, no bytes) this long is closed; 0 = never. */
  idleTimeoutMs: number;
  /** Largest startup-phase message accepted from a client (StartupMessage, SASL messages). */
  maxStartupBytes: number;
}

export interface EndpointServerOptions {
  /** null: SSLRequest is answered 'N'. */
  tls: { cert: string | Buffer; key: string | Buffer } | null;
  lookup(info: StartupInfo): Promise<Refusal | Route>;
  limits: EndpointLimits;
  log: Logger;
}

export interface EndpointStats {
  /** Ports listening now. */
  ports: number[];
  /** Connections held now (handshaking + relaying). */
  clients: number;
  relaying: number;
  accepted: number;
  authFailures: number;
  refused: number;
  cancelsForwarded: number;
  /** Queries the engine cancelled itself because their session was cut mid-query. */
  cancelsOnCut: number;
}

export interface EndpointServer {
  /** Starts accepting on host:port (0 picks a free port); resolves to the port. */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting on the port; by default also ends the sessions accepted there. */
  unlisten(port: number, options?: { endSessions?: boolean }): Promise<void>;
  /** Stops every listener and ends every session. */
  close(): Promise<void>;
  stats(): EndpointStats;
}

export const isRefusal = (value: Refusal | object): value is Refusal =>
  (value as Partial<Refusal>).kind === "refuse";

export const refuse = (sqlstate: string, message: string, detail?: string): Refusal =>
  detail === undefined ? { kind: "refuse", sqlstate, message } : { kind: "refuse", sqlstate, message, detail };
