// The engine as a client of the physical server: connect (TCP or a Unix
// socket, TLS per the target's `ssl`), send the startup packet, answer
// whichever password authentication the server asks for (SCRAM-SHA-256, MD5,
// cleartext), and collect what the client must see before its first query.
import net from "node:net";
import tls from "node:tls";
import { md5PasswordResponse, SCRAM_SHA_256, ScramClientExchange } from "./scram.ts";
import type { BackendTarget } from "./types.ts";
import {
  AUTH_CLEARTEXT,
  AUTH_MD5,
  AUTH_OK,
  AUTH_SASL,
  AUTH_SASL_CONTINUE,
  AUTH_SASL_FINAL,
  BodyCursor,
  cancelRequest,
  message,
  PacketReader,
  parseErrorFields,
  passwordMessage,
  saslInitialResponse,
  sslRequest,
  startupMessage,
} from "./wire.ts";

/** Backend handshake messages are small; this only bounds a misbehaving server. */
const BACKEND_MESSAGE_MAX = 1 << 20;

/** The server answered with an ErrorResponse (wrong password, no such role, too many connections …). */
export class BackendRefused extends Error {
  constructor(readonly fields: Map<string, string>) {
    super(fields.get("M") ?? "backend refused the connection");
    this.name = "BackendRefused";
  }
  get sqlstate(): string {
    return this.fields.get("C") ?? "08006";
  }
}

/** Anything else that kept us from a session: unreachable, TLS, protocol, an auth method we do not speak. */
export class BackendFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackendFailure";
  }
}

export interface BackendSession {
  socket: net.Socket;
  /** What the client gets after AuthenticationOk, in the server's order: ParameterStatus and notices, then ReadyForQuery. */
  greeting: Buffer[];
  pid: number;
  secret: number;
  /** Bytes the server sent past ReadyForQuery (none in practice); relayed first. */
  leftover: Buffer;
}

type Transport = Pick<BackendTarget, "host" | "port" | "ssl">;

function waitFor(socket: net.Socket, event: "connect" | "secureConnect"): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      socket.off(event, onOk);
      reject(new BackendFailure(error.message));
    };
    const onClose = () => onError(new Error("connection closed"));
    const onOk = () => {
      socket.off("error", onError);
      socket.off("close", onClose);
      resolve();
    };
    socket.once(event, onOk);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

/**
 * A connected socket to the server, TLS-wrapped when asked. `track` sees each
 * socket as soon as it exists so the caller can destroy it on timeout.
 */
async function connectTransport(target: Transport, track: (socket: net.Socket) => void): Promise<net.Socket> {
  const unix = target.host.startsWith("/");
  const raw = unix ? net.connect({ path: `${target.host}/.s.PGSQL.${target.port}` }) : net.connect({ host: target.host, port: target.port });
  raw.on("error", () => {}); // reported through waitFor / the reader; never unhandled
  track(raw);
  await waitFor(raw, "connect");
  raw.setNoDelay(true);
  if (!unix) raw.setKeepAlive(true, 60_000);
  if (unix || target.ssl === "disable") return raw;

  const reader = new PacketReader(raw, BACKEND_MESSAGE_MAX);
  raw.write(sslRequest());
  const answer = (await reader.readBytes(1))[0];
  if (reader.detach().length > 0) throw new BackendFailure("server sent data after its SSL answer");
  if (answer === 0x4e /* N */) {
    if (target.ssl === "require") throw new BackendFailure("server does not support SSL, but SSL was required");
    return raw;
  }
  if (answer !== 0x53 /* S */) throw new BackendFailure("server answered SSLRequest with neither S nor N");
  // libpq's sslmode=require: encrypted, certificate not verified.
  const secure = tls.connect({
    socket: raw,
    rejectUnauthorized: false,
    servername: net.isIP(target.host) ? undefined : target.host,
    ALPNProtocols: ["postgresql"],
  });
  secure.on("error", () => {});
  track(secure);
  await waitFor(secure, "secureConnect");
  return secure;
}

/** Connects and logs in as target.user; resolves once the server is ready for queries. */
export async function openBackend(
  target: BackendTarget,
  startupParams: Record<string, string>,
  track: (socket: net.Socket) => void,
): Promise<BackendSession> {
  const socket = await connectTransport(target, track);
  const reader = new PacketReader(socket, BACKEND_MESSAGE_MAX);
  try {
    socket.write(startupMessage(startupParams));
    const greeting: Buffer[] = [];
    let pid = 0;
    let secret = 0;
    let scram: ScramClientExchange | null = null;
    let authenticated = false;
    for (;;) {
      const { type, body } = await reader.readMessage();
      switch (String.fromCharCode(type)) {
        case "R": {
          const cursor = new BodyCursor(body);
          const code = cursor.int32();
          if (code === AUTH_OK) {
            authenticated = true;
          } else if (authenticated) {
            throw new BackendFailure("server asked for authentication after AuthenticationOk");
          } else if (code === AUTH_CLEARTEXT) {
            socket.write(passwordMessage(target.password));
          } else if (code === AUTH_MD5) {
            socket.write(passwordMessage(md5PasswordResponse(target.user, target.password, cursor.bytes(4))));
          } else if (code === AUTH_SASL) {
            const mechanisms: string[] = [];
            for (let m = cursor.cstring(); m !== ""; m = cursor.cstring()) mechanisms.push(m);
            if (!mechanisms.includes(SCRAM_SHA_256)) throw new BackendFailure(`server offers only SASL ${mechanisms.join(", ")}`);
            scram = new ScramClientExchange(target.password);
            socket.write(saslInitialResponse(SCRAM_SHA_256, scram.clientFirst()));
          } else if (code === AUTH_SASL_CONTINUE && scram) {
            socket.write(message("p", await scram.clientFinal(body.toString("utf8", 4))));
          } else if (code === AUTH_SASL_FINAL && scram) {
            if (!scram.verifyServerFinal(body.toString("utf8", 4))) throw new BackendFailure("server's SCRAM signature is wrong");
          } else {
            throw new BackendFailure(`unsupported authentication request ${code}`);
          }
          break;
        }
        case "E":
          throw new BackendRefused(parseErrorFields(body));
        case "K": {
          const cursor = new BodyCursor(body);
          pid = cursor.int32();
          secret = cursor.int32();
          break;
        }
        case "S":
        case "N":
          greeting.push(message(String.fromCharCode(type), body));
          break;
        case "v": // NegotiateProtocolVersion: we asked for nothing optional
          break;
        case "Z":
          if (!authenticated) throw new BackendFailure("ReadyForQuery before AuthenticationOk");
          greeting.push(message("Z", body));
          return { socket, greeting, pid, secret, leftover: reader.detach() };
        default:
          throw new BackendFailure(`unexpected message '${String.fromCharCode(type)}' during backend startup`);
      }
    }
  } catch (error) {
    reader.detach();
    socket.destroy();
    throw error;
  }
}

/** Sends a CancelRequest for (pid, secret) to the server; PostgreSQL answers by closing. */
export async function sendCancel(target: Transport, pid: number, secret: number, timeoutMs: number): Promise<void> {
  let socket: net.Socket | null = null;
  const timer = setTimeout(() => socket?.destroy(), timeoutMs);
  timer.unref();
  try {
    socket = await connectTransport(target, (s) => {
      socket = s;
    });
    const done = new Promise<void>((resolve) => socket!.once("close", () => resolve()));
    socket.end(cancelRequest(pid, secret));
    await done;
  } finally {
    clearTimeout(timer);
    socket?.destroy();
  }
}
