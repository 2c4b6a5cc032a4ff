// PostgreSQL v3 framing for the handshake only. After authentication the
// engine relays raw bytes, so this covers just what the two handshakes need:
// untyped startup packets, typed messages, and the few messages we write.
import type { Duplex } from "node:stream";

export const PROTOCOL_3_0 = 196608; // 3 << 16
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

export const AUTH_OK = 0;
export const AUTH_CLEARTEXT = 3;
export const AUTH_MD5 = 5;
export const AUTH_SASL = 10;
export const AUTH_SASL_CONTINUE = 11;
export const AUTH_SASL_FINAL = 12;

/** A client broke the protocol; the text is safe to send back. */
export class ProtocolViolation extends Error {
  constructor(
    readonly sqlstate: string,
    message: string,
  ) {
    super(message);
    this.name = "ProtocolViolation";
  }
}

/** The peer closed or reset the connection (or we destroyed it) while we waited. */
export class PeerClosed extends Error {
  constructor(reason = "connection closed") {
    super(reason);
    this.name = "PeerClosed";
  }
}

export interface Message {
  type: number;
  body: Buffer;
}

type Parse<T> = (buffered: Buffer) => { value: T; used: number } | null;

interface Waiter {
  parse: Parse<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads handshake messages from a socket in flowing mode. Every message's
 * declared length is checked against maxMessageBytes before anything is
 * buffered for it, and no more than twice that is ever held.
 */
export class PacketReader {
  private buffered: Buffer = EMPTY;
  private waiter: Waiter | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.buffered.length > this.maxMessageBytes * 2 + 16) {
      this.fail(new ProtocolViolation("08P01", "too much data sent during connection startup"));
      return;
    }
    this.pump();
  };
  private readonly onEnd = () => this.fail(new PeerClosed());
  private readonly onError = (error: Error) => this.fail(new PeerClosed(error.message));

  constructor(
    private readonly socket: Duplex,
    private readonly maxMessageBytes: number,
  ) {
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("close", this.onEnd);
    socket.on("error", this.onError);
  }

  /** Bytes received but not consumed yet. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  /** A length-prefixed packet without a type byte (startup, SSL/GSS/cancel requests). Includes the length word. */
  readStartupPacket(): Promise<Buffer> {
    return this.request((buf) => {
      if (buf.length < 4) return null;
      const length = buf.readInt32BE(0);
      if (length < 8) throw new ProtocolViolation("08P01", "invalid length of startup packet");
      if (length > this.maxMessageBytes) throw new ProtocolViolation("08P01", "invalid length of startup packet (too long)");
      if (buf.length < length) return null;
      return { value: buf.subarray(0, length), used: length };
    });
  }

  /** A typed message: type byte, int32 length (including itself), body. */
  readMessage(): Promise<Message> {
    return this.request((buf) => {
      if (buf.length < 5) return null;
      const length = buf.readInt32BE(1);
      if (length < 4) throw new ProtocolViolation("08P01", "invalid message length");
      if (length > this.maxMessageBytes) throw new ProtocolViolation("08P01", "message too long during connection startup");
      if (buf.length < length + 1) return null;
      return { value: { type: buf[0]!, body: buf.subarray(5, length + 1) }, used: length + 1 };
    });
  }

  /** Exactly n raw bytes (the one-byte answer to SSLRequest). */
  readBytes(n: number): Promise<Buffer> {
    return this.request((buf) => (buf.length < n ? null : { value: buf.subarray(0, n), used: n }));
  }

  /** Stops reading; returns what was received and not consumed (owned by the caller). */
  detach(): Buffer {
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("close", this.onEnd);
    this.socket.off("error", this.onError);
    const rest = this.buffered;
    this.buffered = EMPTY;
    this.fail(new PeerClosed("reader detached"));
    return rest;
  }

  private request<T>(parse: Parse<T>): Promise<T> {
    if (this.waiter) return Promise.reject(new Error("PacketReader: one read at a time"));
    return new Promise<T>((resolve, reject) => {
      this.waiter = { parse, resolve: resolve as (v: unknown) => void, reject };
      this.pump();
    });
  }

  private pump(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    let parsed: { value: unknown; used: number } | null;
    try {
      parsed = waiter.parse(this.buffered);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (parsed) {
      this.waiter = null;
      // Values alias the received chunks; Node allocates a fresh buffer per read.
      this.buffered = parsed.used === this.buffered.length ? EMPTY : this.buffered.subarray(parsed.used);
      waiter.resolve(parsed.value);
    } else if (this.failure) {
      this.waiter = null;
      waiter.reject(this.failure);
    }
  }

  private fail(error: Error): void {
    if (!this.failure) this.failure = error;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter.reject(this.failure);
    }
  }
}

/** A typed message: type, int32 length, body. */
export function message(type: string, body: Buffer | string = EMPTY): Buffer {
  const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + payload.length, 1);
  payload.copy(out, 5);
  return out;
}

const cstring = (text: string): Buffer => Buffer.from(`${text}\0`, "utf8");

const int32 = (value: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(value, 0);
  return b;
};

/** An untyped packet (startup family): int32 length, int32 code, rest. */
export function startupFamilyPacket(code: number, rest: Buffer = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(8 + rest.length);
  out.writeInt32BE(8 + rest.length, 0);
  out.writeInt32BE(code, 4);
  rest.copy(out, 8);
  return out;
}

export function startupMessage(params: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(params)) parts.push(cstring(k), cstring(v));
  parts.push(Buffer.from([0]));
  return startupFamilyPacket(PROTOCOL_3_0, Buffer.concat(parts));
}

export const sslRequest = (): Buffer => startupFamilyPacket(SSL_REQUEST);

export function cancelRequest(pid: number, secret: number): Buffer {
  const rest = Buffer.allocUnsafe(8);
  rest.writeInt32BE(pid, 0);
  rest.writeInt32BE(secret, 4);
  return startupFamilyPacket(CANCEL_REQUEST, rest);
}

export const authRequest = (code: number, extra: Buffer = EMPTY): Buffer => message("R", Buffer.concat([int32(code), extra]));

export function backendKeyData(pid: number, secret: number): Buffer {
  const body = Buffer.allocUnsafe(8);
  body.writeInt32BE(pid, 0);
  body.writeInt32BE(secret, 4);
  return message("K", body);
}

/** NegotiateProtocolVersion: the newest minor version we speak (0) and the options we ignored. */
export const negotiateProtocolVersion = (unrecognized: string[]): Buffer =>
  message("v", Buffer.concat([int32(PROTOCOL_3_0), int32(unrecognized.length), ...unrecognized.map(cstring)]));

export const saslInitialResponse = (mechanism: string, data: string): Buffer => {
  const payload = Buffer.from(data, "utf8");
  return message("p", Buffer.concat([cstring(mechanism), int32(payload.length), payload]));
};

export const passwordMessage = (text: string): Buffer => message("p", cstring(text));

export interface ErrorFields {
  severity: "FATAL" | "ERROR";
  sqlstate: string;
  message: string;
  detail?: string;
}

/** An ErrorResponse that libpq, psql and postgres.js print as usual. */
export function errorResponse(fields: ErrorFields): Buffer {
  const parts = [`S${fields.severity}\0`, `V${fields.severity}\0`, `C${fields.sqlstate}\0`, `M${fields.message}\0`];
  if (fields.detail) parts.push(`D${fields.detail}\0`);
  parts.push("\0");
  return message("E", parts.join(""));
}

/** ErrorResponse/NoticeResponse body → field code → value. */
export function parseErrorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const code = String.fromCharCode(body[at]!);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    fields.set(code, body.toString("utf8", at + 1, end));
    at = end + 1;
  }
  return fields;
}

/** Reads NUL-terminated strings from a body, in order. */
export class BodyCursor {
  private at = 0;
  constructor(private readonly body: Buffer) {}
  cstring(): string {
    const end = this.body.indexOf(0, this.at);
    if (end < 0) throw new ProtocolViolation("08P01", "invalid string in message");
    const text = this.body.toString("utf8", this.at, end);
    this.at = end + 1;
    return text;
  }
  int32(): number {
    if (this.at + 4 > this.body.length) throw new ProtocolViolation("08P01", "invalid message format");
    const value = this.body.readInt32BE(this.at);
    this.at += 4;
    return value;
  }
  bytes(n: number): Buffer {
    if (n < 0 || this.at + n > this.body.length) throw new ProtocolViolation("08P01", "invalid message format");
    const out = this.body.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  get remaining(): number {
    return this.body.length - this.at;
  }
}
