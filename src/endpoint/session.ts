// One client connection from accept to close: negotiate, look up the route,
// authenticate the client, open the backend inside the route's login window,
// hand the client the backend's greeting (with a cancel key of ours), relay.
import type net from "node:net";
import tls from "node:tls";
import type { Logger } from "../lib/log.ts";
import { BackendFailure, BackendRefused, type BackendSession, openBackend, sendCancel } from "./backend.ts";
import type { CancelKeys } from "./cancel-keys.ts";
import { authenticateClient, negotiate } from "./client-handshake.ts";
import { endSocket, Relay } from "./relay.ts";
import { backendStartupParams, param, parseOptions, wantsReplication } from "./startup.ts";
import { type EndpointServerOptions, isRefusal, type Refusal, refuse, type StartupInfo } from "./types.ts";
import { AUTH_OK, authRequest, backendKeyData, errorResponse, negotiateProtocolVersion, PeerClosed, ProtocolViolation } from "./wire.ts";

export interface SessionCounters {
  authFailures: number;
  refused: number;
  cancelsForwarded: number;
  cancelsOnCut: number;
}

export interface SessionContext {
  options: EndpointServerOptions;
  secureContext: tls.SecureContext | null;
  cancelKeys: CancelKeys;
  counters: SessionCounters;
  log: Logger;
}

const CANCEL_FORWARD_TIMEOUT_MS = 10_000;
const KEEPALIVE_MS = 60_000;
const NEUTRAL_BACKEND_ERROR = refuse("08006", "could not connect to the branch database");

/** What the client may learn from a backend's refusal: a neutral message, never the server's text. */
function clientFacing(error: BackendRefused): Refusal {
  if (error.sqlstate === "53300") return refuse("53300", "too many connections to the branch database");
  if (error.sqlstate.startsWith("57P0")) return refuse(error.sqlstate, "the branch database is not accepting connections right now");
  return NEUTRAL_BACKEND_ERROR;
}

export class ClientSession {
  private client: net.Socket;
  private backendSockets: net.Socket[] = [];
  private relay: Relay | null = null;
  private finished = false;
  /** Written before anything else we send (the SASLFinal, held back to share a write). */
  private pendingToClient: Buffer = Buffer.alloc(0);
  /** False while a TLS upgrade is mid-handshake: nothing can be written to the client then. */
  private clientWritable = true;
  private releaseCancelKey: (() => void) | null = null;
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    private readonly raw: net.Socket,
    readonly localPort: number,
    private readonly ctx: SessionContext,
    /** Over maxClients: finish the startup exchange only to refuse it properly (cancels still pass). */
    private readonly overLimit: boolean,
  ) {
    this.client = raw;
    raw.setNoDelay(true);
    raw.setKeepAlive(true, KEEPALIVE_MS); // a vanished peer is noticed even with idleTimeoutMs = 0
    raw.on("error", () => {}); // resets are routine; 'close' does the cleanup
    this.handshakeTimer = setTimeout(
      () => this.abort(refuse("08006", "timeout expired during connection startup")),
      ctx.options.limits.authTimeoutMs,
    );
    this.handshakeTimer.unref();
  }

  get relaying(): boolean {
    return this.relay !== null;
  }

  /** Resolves when the client's socket has closed, whatever the reason. */
  run(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.raw.once("close", () => resolve()));
    this.handshake().catch((error: unknown) => this.handshakeFailed(error));
    return closed.then(() => {
      this.finished = true;
      clearTimeout(this.handshakeTimer);
      this.releaseCancelKey?.();
      if (!this.relay) for (const s of this.backendSockets) s.destroy();
    });
  }

  /** Ends the session from outside (close(), unlisten()). */
  terminate(): void {
    const fatal = refuse("57P01", "terminating connection due to administrator command");
    if (this.relay) this.relay.end(fatal);
    else this.abort(fatal);
  }

  private async handshake(): Promise<void> {
    const { options, log } = this.ctx;
    const hello = await negotiate(this.raw, {
      secureContext: this.ctx.secureContext,
      maxStartupBytes: options.limits.maxStartupBytes,
      track: (socket) => {
        this.client = socket;
        if (socket instanceof tls.TLSSocket) {
          this.clientWritable = false;
          socket.once("secure", () => (this.clientWritable = true));
        }
      },
    });
    if (hello.kind === "cancel") return this.forwardCancel(hello.pid, hello.secret);
    if (this.overLimit) return this.refuseWith(refuse("53300", "sorry, too many clients already"));

    const { socket, reader, startup } = hello;
    const user = param(startup.params, "user");
    if (!user) return this.refuseWith(refuse("28000", "no PostgreSQL user name specified in startup packet"));
    if (wantsReplication(startup.params)) {
      return this.refuseWith(refuse("28000", "replication connections are not allowed through a branch endpoint"));
    }
    if (startup.minorVersion > 0 || startup.protocolOptions.length > 0) socket.write(negotiateProtocolVersion(startup.protocolOptions));

    const { parsed, forwarded } = parseOptions(param(startup.params, "options"));
    const info: StartupInfo = {
      localPort: this.localPort,
      serverName: hello.serverName,
      tls: hello.tls,
      user,
      database: param(startup.params, "database") || user,
      options: parsed,
      params: startup.params,
      remoteAddress: this.raw.remoteAddress ?? "",
    };
    const route = await options.lookup(info);
    if (this.finished) return;
    if (isRefusal(route)) return this.refuseWith(route);

    const saslFinal = await authenticateClient(socket, reader, route.verifier);
    if (!saslFinal) {
      this.ctx.counters.authFailures++;
      log.info("endpoint: password authentication failed", { user, port: this.localPort, remote: info.remoteAddress });
      return this.refuseWith(refuse("28P01", `password authentication failed for user "${user}"`));
    }
    this.pendingToClient = saslFinal;
    const target = await route.open();
    if (this.finished) return;
    if (isRefusal(target)) return this.refuseWith(target);

    const track = (s: net.Socket) => {
      this.backendSockets.push(s);
      if (this.finished) s.destroy();
    };
    let backend: BackendSession;
    try {
      // The startup parameters are built inside the login: the target's user and
      // password may be chosen there (a login window on a role picked for this session).
      backend = await target.login(() => openBackend(target, backendStartupParams(startup.params, forwarded, target), track));
    } catch (error) {
      if (this.finished) return;
      if (error instanceof BackendRefused || error instanceof BackendFailure) {
        const fields = error instanceof BackendRefused ? Object.fromEntries(error.fields) : { message: error.message };
        log.warn("endpoint: backend login failed", { port: this.localPort, backend: `${target.host}:${target.port}`, ...fields });
        return this.refuseWith(error instanceof BackendRefused ? clientFacing(error) : NEUTRAL_BACKEND_ERROR);
      }
      const refusal = (error as { refusal?: Refusal }).refusal;
      if (refusal && isRefusal(refusal)) return this.refuseWith(refusal);
      log.warn("endpoint: login failed", { port: this.localPort, error: error instanceof Error ? error.message : String(error) });
      return this.refuseWith(NEUTRAL_BACKEND_ERROR);
    }
    if (this.finished) {
      backend.socket.destroy();
      return;
    }
    this.startRelay(socket, reader.detach(), backend, target);
  }

  private startRelay(client: net.Socket, clientLeftover: Buffer, backend: BackendSession, target: { host: string; port: number; ssl: "disable" | "prefer" | "require" }): void {
    clearTimeout(this.handshakeTimer);
    const key = this.ctx.cancelKeys.issue({ transport: target, pid: backend.pid, secret: backend.secret });
    this.releaseCancelKey = key.release;
    // PostgreSQL's order: AuthenticationOk, ParameterStatus…, BackendKeyData, ReadyForQuery — in one write.
    const greeting = backend.greeting;
    client.write(
      Buffer.concat([
        this.takePending(),
        authRequest(AUTH_OK),
        ...greeting.slice(0, -1),
        backendKeyData(key.pid, key.secret),
        greeting[greeting.length - 1]!,
      ]),
    );
    if (backend.leftover.length > 0) client.write(backend.leftover);
    if (clientLeftover.length > 0) backend.socket.write(clientLeftover);
    this.relay = new Relay(
      client,
      backend.socket,
      this.ctx.options.limits.idleTimeoutMs,
      () => this.relay?.end(refuse("57P05", "terminating connection due to idle-session timeout")),
      () => {
        this.ctx.counters.cancelsOnCut++;
        void sendCancel(target, backend.pid, backend.secret, CANCEL_FORWARD_TIMEOUT_MS).catch((error: unknown) =>
          this.ctx.log.warn("endpoint: could not cancel the query of a closed session", { error }),
        );
      },
    );
    this.relay.start();
  }

  private async forwardCancel(pid: number, secret: number): Promise<void> {
    endSocket(this.client); // PostgreSQL answers a CancelRequest by closing
    const target = this.ctx.cancelKeys.find(pid, secret);
    if (!target) return;
    this.ctx.counters.cancelsForwarded++;
    await sendCancel(target.transport, target.pid, target.secret, CANCEL_FORWARD_TIMEOUT_MS).catch((error: unknown) =>
      this.ctx.log.warn("endpoint: could not forward a cancel request", { error }),
    );
  }

  private handshakeFailed(error: unknown): void {
    if (this.finished) return;
    if (error instanceof ProtocolViolation) {
      this.ctx.log.debug("endpoint: protocol violation", { port: this.localPort, message: error.message });
      this.refuseWith(refuse(error.sqlstate, error.message));
    } else if (error instanceof PeerClosed) {
      this.abort(null);
    } else {
      this.ctx.log.error("endpoint: connection set-up failed", { port: this.localPort, error });
      this.refuseWith(refuse("08006", "the endpoint could not set up this connection"));
    }
  }

  /** Sends the refusal as a FATAL ErrorResponse and ends the connection. */
  private refuseWith(refusal: Refusal): void {
    this.ctx.counters.refused++;
    this.abort(refusal);
  }

  private abort(refusal: Refusal | null): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.handshakeTimer);
    for (const s of this.backendSockets) s.destroy();
    if (!this.clientWritable) {
      this.client.destroy();
      return;
    }
    const last = refusal
      ? Buffer.concat([
          this.takePending(),
          errorResponse({ severity: "FATAL", sqlstate: refusal.sqlstate, message: refusal.message, detail: refusal.detail }),
        ])
      : undefined;
    endSocket(this.client, last);
  }

  private takePending(): Buffer {
    const pending = this.pendingToClient;
    this.pendingToClient = Buffer.alloc(0);
    return pending;
  }
}
