// The API part: the Hono app on Node's HTTP server. SIGTERM stops accepting
// connections, lets requests in flight finish (bounded), then closes pools.
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import { createApp } from "../app.ts";
import type { Config } from "../config.ts";
import { RateLimiter } from "../control/rate-limits.ts";
import { listenForChanges, ReadCache } from "../control/read-cache.ts";
import { openChangeListener } from "../db/client.ts";
import { shareDataPlaneConnections } from "../dataplane/connection.ts";
import type { Logger } from "../lib/log.ts";
import { bootServices, type Secrets } from "./boot.ts";
import type { RunningPart } from "./supervisor.ts";

/** How often the rate limiter shares its counts: the lag of limits across API instances. */
const RATE_LIMIT_FLUSH_MS = 250;

/** How long requests in flight may take to finish after SIGTERM. */
const DRAIN_MS = 10_000;

export async function runApi(config: Config, secrets: Secrets, log: Logger): Promise<RunningPart> {
  const { services, metadata } = await bootServices(config, secrets, log, { work: false });
  // Status, branch and API-key reads served from memory, kept correct by the metadata triggers' NOTIFYs.
  shareDataPlaneConnections();
  services.cache = new ReadCache();
  const changes = await listenForChanges(services.cache, () => openChangeListener(config.DATABASE_URL), log);
  const rateLimiter = new RateLimiter({
    perMinute: config.ANONBRANCH_RATE_LIMIT_PER_MINUTE,
    burstPerSecond: config.ANONBRANCH_RATE_LIMIT_BURST_PER_SECOND,
    adminPerMinute: config.ANONBRANCH_RATE_LIMIT_ADMIN_PER_MINUTE,
  });
  // Shares this instance's counts with the others through the metadata database.
  const flusher = setInterval(() => {
    rateLimiter.flush(services.db).catch((error) => log.debug("rate-limit counts not shared this time", { error }));
  }, RATE_LIMIT_FLUSH_MS);
  flusher.unref();
  const app = createApp({ services, auth: { adminToken: secrets.adminToken }, rateLimiter });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) =>
    log.info(`api listening on http://${config.HOST}:${info.port}/api/v2`),
  ) as Server;
  return {
    async stop() {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
      await drained;
      clearTimeout(timer);
      clearInterval(flusher);
      await rateLimiter.flush(services.db).catch(() => {});
      await services.boss.stop({ graceful: false, wait: true, timeout: 5_000 }).catch(() => {});
      await changes.stop();
      await metadata.sql.end({ timeout: 5 });
    },
  };
}
