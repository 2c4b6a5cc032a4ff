// The engine: any number of listening ports (one per endpoint, or shared ones
// routed by SNI / options=endpoint=…), one bounded set of sessions, one
// cancel-key table for all of them.
import net from "node:net";
import tls from "node:tls";
import { CancelKeys } from "./cancel-keys.ts";
import { ClientSession, type SessionContext } from "./session.ts";
import type { EndpointServer, EndpointServerOptions, EndpointStats } from "./types.ts";

/**
 * Connections over maxClients still get a proper "too many clients" error
 * (and their cancel requests still pass); past this many more they are
 * dropped at once, so a flood cannot make us hold sockets without bound.
 */
const REFUSAL_SLOTS = 64;

export function createEndpointServer(options: EndpointServerOptions): EndpointServer {
  const { limits, log } = options;
  if (!(limits.maxClients > 0 && limits.authTimeoutMs > 0 && limits.idleTimeoutMs >= 0 && limits.maxStartupBytes >= 1024)) {
    throw new Error("endpoint limits: maxClients and authTimeoutMs must be > 0, idleTimeoutMs ≥ 0, maxStartupBytes ≥ 1024");
  }
  const ctx: SessionContext = {
    options,
    secureContext: options.tls ? tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key, minVersion: "TLSv1.2" }) : null,
    cancelKeys: new CancelKeys(),
    counters: { authFailures: 0, refused: 0, cancelsForwarded: 0, cancelsOnCut: 0 },
    log,
  };
  const listeners = new Map<number, net.Server>();
  /** Admitted sessions (count against maxClients). */
  const admitted = new Set<ClientSession>();
  /** Every session with the promise of its end, admitted or being refused. */
  const running = new Map<ClientSession, Promise<void>>();
  let accepted = 0;
  let closing = false;

  const onConnection = (socket: net.Socket): void => {
    accepted++;
    socket.on("error", () => {});
    if (closing) {
      socket.destroy();
      return;
    }
    const overLimit = admitted.size >= limits.maxClients;
    if (overLimit && running.size - admitted.size >= REFUSAL_SLOTS) {
      ctx.counters.refused++;
      socket.destroy();
      return;
    }
    const session = new ClientSession(socket, socket.localPort ?? 0, ctx, overLimit);
    if (!overLimit) admitted.add(session);
    const done = session.run().finally(() => {
      admitted.delete(session);
      running.delete(session);
    });
    running.set(session, done);
  };

  const endSessions = async (where: (s: ClientSession) => boolean): Promise<void> => {
    const ending = [...running].filter(([s]) => where(s));
    for (const [s] of ending) s.terminate();
    await Promise.all(ending.map(([, done]) => done));
  };

  return {
    listen(port, host) {
      if (closing) return Promise.reject(new Error("endpoint server is closed"));
      return new Promise<number>((resolve, reject) => {
        const server = net.createServer({ noDelay: true }, onConnection);
        server.once("error", reject);
        server.listen({ port, host }, () => {
          server.off("error", reject);
          const bound = (server.address() as net.AddressInfo).port;
          // Accept errors (EMFILE …) are logged; the listener keeps going.
          server.on("error", (error) => log.error("endpoint: listener error", { port: bound, error }));
          listeners.set(bound, server);
          log.debug("endpoint: listening", { host, port: bound });
          resolve(bound);
        });
      });
    },

    async unlisten(port, opts = {}) {
      const server = listeners.get(port);
      if (!server) return;
      listeners.delete(port);
      // close() stops accepting now; its callback would wait for every session accepted here.
      server.close();
      if (opts.endSessions ?? true) await endSessions((s) => s.localPort === port);
      log.debug("endpoint: stopped listening", { port });
    },

    async close() {
      closing = true;
      for (const server of listeners.values()) server.close();
      listeners.clear();
      await endSessions(() => true);
    },

    stats(): EndpointStats {
      let relaying = 0;
      for (const s of admitted) if (s.relaying) relaying++;
      return {
        ports: [...listeners.keys()],
        clients: admitted.size,
        relaying,
        accepted,
        ...ctx.counters,
      };
    },
  };
}
