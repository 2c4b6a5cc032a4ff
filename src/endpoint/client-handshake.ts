// The engine as a server to its clients, up to and including authentication:
// SSLRequest (TLS upgrade, SNI captured) or 'N', GSSENCRequest → 'N',
// CancelRequest, StartupMessage 3.x, then SCRAM-SHA-256 against a verifier.
import type net from "node:net";
import tls from "node:tls";
import { SCRAM_SHA_256, ScramServerExchange } from "./scram.ts";
import { type ParsedStartup, parseStartupMessage } from "./startup.ts";
import type { ScramVerifier } from "./types.ts";
import {
  AUTH_SASL,
  AUTH_SASL_CONTINUE,
  AUTH_SASL_FINAL,
  authRequest,
  BodyCursor,
  CANCEL_REQUEST,
  GSSENC_REQUEST,
  PacketReader,
  ProtocolViolation,
  SSL_REQUEST,
} from "./wire.ts";

export type ClientHello =
  | { kind: "startup"; socket: net.Socket; reader: PacketReader; tls: boolean; serverName: string | null; startup: ParsedStartup }
  | { kind: "cancel"; socket: net.Socket; pid: number; secret: number };

export interface NegotiateOptions {
  secureContext: tls.SecureContext | null;
  maxStartupBytes: number;
  /** Sees each socket as it comes to exist (the TLS one after an upgrade). */
  track: (socket: net.Socket) => void;
}

const S = Buffer.from("S");
const N = Buffer.from("N");

/** Reads the client's first packets until a StartupMessage or a CancelRequest. */
export async function negotiate(raw: net.Socket, options: NegotiateOptions): Promise<ClientHello> {
  let socket = raw;
  let reader = new PacketReader(socket, options.maxStartupBytes);
  let encrypted = false;
  let serverName: string | null = null;
  let gssAnswered = false;
  for (;;) {
    const packet = await reader.readStartupPacket();
    const code = packet.readInt32BE(4);
    if (code === SSL_REQUEST) {
      if (encrypted) throw new ProtocolViolation("08P01", "SSLRequest received on an encrypted connection");
      if (reader.pendingBytes > 0) {
        // Bytes sent before our answer would be read as if they came through TLS (CVE-2021-23214).
        throw new ProtocolViolation("08P01", "received unencrypted data after SSL request");
      }
      if (!options.secureContext) {
        socket.write(N);
        continue;
      }
      reader.detach();
      socket.write(S);
      // Node hands the raw socket's handle to the TLS layer: nothing is read twice or lost.
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: options.secureContext });
      secure.on("error", () => {}); // surfaced through the reader; never unhandled
      options.track(secure);
      socket = secure;
      reader = new PacketReader(secure, options.maxStartupBytes);
      encrypted = true;
      continue;
    }
    if (code === GSSENC_REQUEST) {
      if (gssAnswered || encrypted) throw new ProtocolViolation("08P01", "unexpected GSSENCRequest");
      gssAnswered = true;
      socket.write(N);
      continue;
    }
    if (code === CANCEL_REQUEST) {
      if (packet.length !== 16) throw new ProtocolViolation("08P01", "invalid length of cancel request");
      reader.detach();
      return { kind: "cancel", socket, pid: packet.readInt32BE(8), secret: packet.readInt32BE(12) };
    }
    const major = code >>> 16;
    const minor = code & 0xffff;
    if (major !== 3) {
      throw new ProtocolViolation("0A000", `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`);
    }
    if (encrypted) {
      const name = (socket as tls.TLSSocket).servername;
      serverName = typeof name === "string" && name !== "" ? name : null;
    }
    return { kind: "startup", socket, reader, tls: encrypted, serverName, startup: parseStartupMessage(packet) };
  }
}

/** SASLInitialResponse / SASLResponse ('p') bodies. */
async function readSaslMessage(reader: PacketReader): Promise<Buffer> {
  const { type, body } = await reader.readMessage();
  if (type !== 0x70 /* p */) throw new ProtocolViolation("08P01", `expected SASL response, got message type ${type}`);
  return body;
}

/**
 * Runs SCRAM-SHA-256 with the client. Resolves to the AuthenticationSASLFinal
 * message once the client proved the password, null on a wrong password. The
 * caller sends it with whatever comes next (AuthenticationOk and the greeting,
 * or a refusal): one write, one wake-up of the client fewer.
 */
export async function authenticateClient(socket: net.Socket, reader: PacketReader, verifier: ScramVerifier): Promise<Buffer | null> {
  const exchange = new ScramServerExchange(verifier);
  socket.write(authRequest(AUTH_SASL, Buffer.from(`${SCRAM_SHA_256}\0\0`)));

  const initial = new BodyCursor(await readSaslMessage(reader));
  const mechanism = initial.cstring();
  if (mechanism !== SCRAM_SHA_256) {
    throw new ProtocolViolation("28000", "client selected an invalid SASL authentication mechanism");
  }
  const length = initial.int32();
  const clientFirst = initial.bytes(length).toString("utf8");
  socket.write(authRequest(AUTH_SASL_CONTINUE, Buffer.from(exchange.start(clientFirst), "utf8")));

  const clientFinal = (await readSaslMessage(reader)).toString("utf8");
  const serverFinal = exchange.finish(clientFinal);
  if (serverFinal === null) return null;
  return authRequest(AUTH_SASL_FINAL, Buffer.from(serverFinal, "utf8"));
}
