// After both logins the engine only moves bytes: socket.pipe() both ways
// (backpressure included), no message parsing. The one thing it looks at is
// whether the backend's latest bytes end with ReadyForQuery (6 bytes at the
// end of a chunk): that marks a message boundary where the engine may speak
// to the client itself (idle timeout, shutdown) without corrupting the stream.
import type net from "node:net";
import { errorResponse, message } from "./wire.ts";

const TERMINATE = message("X");
/** How long a peer may take to read our last bytes before its socket is destroyed. */
const LINGER_MS = 5_000;

/** Ends a socket after its pending writes, destroying it if that takes too long. */
export function endSocket(socket: net.Socket, last?: Buffer): void {
  if (socket.destroyed) return;
  if (last && socket.writable) socket.end(last);
  else socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

function isReadyForQuery(tail: Buffer): boolean {
  // 'Z', int32 5, status I (idle) / T (in transaction) / E (failed transaction)
  return (
    tail[0] === 0x5a &&
    tail[1] === 0 &&
    tail[2] === 0 &&
    tail[3] === 0 &&
    tail[4] === 5 &&
    (tail[5] === 0x49 || tail[5] === 0x54 || tail[5] === 0x45)
  );
}

function endsWithTerminate(chunk: Buffer): boolean {
  // 'X', int32 4; clients send it alone as their last message.
  const n = chunk.length;
  return n >= 5 && chunk[n - 5] === 0x58 && chunk[n - 4] === 0 && chunk[n - 3] === 0 && chunk[n - 2] === 0 && chunk[n - 1] === 4;
}

export class Relay {
  private readonly tail = Buffer.alloc(6);
  private tailLength = 0;
  /** The backend's last bytes were a ReadyForQuery (true right after the login). */
  private atBoundary = true;
  /** The client sent bytes since that ReadyForQuery (a query is on its way or running). */
  private clientSpoke = false;
  /** The client's last bytes were a Terminate message: it left cleanly, nothing to cancel. */
  private clientTerminated = false;
  private lastActivity = Date.now();
  private idleTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly client: net.Socket,
    private readonly backend: net.Socket,
    private readonly idleTimeoutMs: number,
    private readonly onIdle: () => void,
    /**
     * Called when the session is cut while a query may be running. The backend
     * would not notice a closed socket until it next writes (pg_sleep(3600)
     * runs on), so the caller sends it a CancelRequest.
     */
    private readonly onCutMidQuery: () => void,
  ) {}

  start(): void {
    const { client, backend } = this;
    client.on("data", (chunk: Buffer) => {
      this.lastActivity = Date.now();
      this.clientSpoke = true;
      this.clientTerminated = endsWithTerminate(chunk);
    });
    backend.on("data", (chunk: Buffer) => {
      this.lastActivity = Date.now();
      this.remember(chunk);
      if (this.tailLength === 6 && isReadyForQuery(this.tail)) {
        this.atBoundary = true;
        this.clientSpoke = false;
      } else {
        this.atBoundary = false;
      }
    });
    // A reset on either side ends both at once; a clean close lets the other drain.
    const onClose = (other: net.Socket) => (hadError: boolean) => {
      if (this.stopped) return;
      this.stop();
      if (other === backend && !this.idle && !this.clientTerminated) this.onCutMidQuery();
      if (hadError) other.destroy();
      else endSocket(other);
    };
    client.once("close", onClose(backend));
    backend.once("close", onClose(client));
    client.pipe(backend);
    backend.pipe(client);
    if (this.idleTimeoutMs > 0) this.armIdle(this.idleTimeoutMs);
  }

  /** Both sockets quiet and no query in flight (as far as bytes show). */
  get idle(): boolean {
    return this.atBoundary && !this.clientSpoke;
  }

  /**
   * Ends the session. When the backend's last bytes were a ReadyForQuery the
   * client gets `fatal` as a proper ErrorResponse (anything else could leave
   * it half a message); a query in flight is cancelled on the backend.
   */
  end(fatal: { sqlstate: string; message: string }): void {
    if (this.stopped) return;
    this.stop();
    const { client, backend } = this;
    const idle = this.idle;
    if (!idle) this.onCutMidQuery();
    backend.unpipe(client);
    client.unpipe(backend);
    // Terminate only when the client's bytes are not mid-message either.
    if (idle) endSocket(backend, TERMINATE);
    else backend.destroy();
    if (this.atBoundary) endSocket(client, errorResponse({ severity: "FATAL", ...fatal }));
    else client.destroy();
  }

  private remember(chunk: Buffer): void {
    if (chunk.length >= 6) {
      chunk.copy(this.tail, 0, chunk.length - 6);
      this.tailLength = 6;
      return;
    }
    const keep = Math.min(this.tailLength, 6 - chunk.length);
    this.tail.copy(this.tail, 0, this.tailLength - keep, this.tailLength);
    chunk.copy(this.tail, keep);
    this.tailLength = keep + chunk.length;
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => this.checkIdle(), ms);
    this.idleTimer.unref();
  }

  private checkIdle(): void {
    if (this.stopped) return;
    const quiet = Date.now() - this.lastActivity;
    if (this.idle && quiet >= this.idleTimeoutMs) {
      this.onIdle();
      return;
    }
    this.armIdle(this.idle ? this.idleTimeoutMs - quiet : this.idleTimeoutMs);
  }

  private stop(): void {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
