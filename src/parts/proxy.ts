// The endpoint proxy part: every branch endpoint's port (and the shared,
// SNI / options=endpoint routed one) on ANONBRANCH_ENDPOINT_LISTEN. Stateless
// apart from the metadata database: run as many as you like. SIGTERM stops
// accepting and ends the sessions it relays.
import { join } from "node:path";
import type { Config } from "../config.ts";
import { assignMissingEndpointPorts } from "../control/endpoints.ts";
import { startBranchEndpoints } from "../endpoint/branch-endpoints.ts";
import { ensureEndpointCertificate } from "../endpoint/index.ts";
import type { Logger } from "../lib/log.ts";
import { bootServices, type Secrets } from "./boot.ts";
import type { RunningPart } from "./supervisor.ts";

export async function runProxy(config: Config, secrets: Secrets, log: Logger): Promise<RunningPart> {
  const { services, metadata } = await bootServices(config, secrets, log, { work: false });
  // Branches made before endpoints existed get a port now.
  const assigned = await assignMissingEndpointPorts(services);
  if (assigned > 0) log.info("endpoint ports given to existing branches", { count: assigned });
  const domain = config.ANONBRANCH_ENDPOINT_DOMAIN;
  const hostNames = [...new Set([config.ANONBRANCH_ENDPOINT_HOST, "localhost", ...(domain ? [`*.${domain}`] : [])])];
  const configured = config.ANONBRANCH_ENDPOINT_TLS_CERT && config.ANONBRANCH_ENDPOINT_TLS_KEY
    ? { certPath: config.ANONBRANCH_ENDPOINT_TLS_CERT, keyPath: config.ANONBRANCH_ENDPOINT_TLS_KEY }
    : undefined;
  const tls = await ensureEndpointCertificate(join(config.ANONBRANCH_STATE_DIR, "tls"), hostNames, configured);
  if (tls.generated) log.warn(`endpoint TLS: generated a self-signed certificate in ${tls.certPath}; set ANONBRANCH_ENDPOINT_TLS_CERT/_KEY for one clients can verify`);
  const endpoints = await startBranchEndpoints(services, {
    listenHost: config.ANONBRANCH_ENDPOINT_LISTEN,
    ports: config.ANONBRANCH_ENDPOINT_PORTS,
    sharedPort: config.ANONBRANCH_ENDPOINT_PORT,
    domain,
    tls,
    limits: {
      maxClients: config.ANONBRANCH_ENDPOINT_MAX_CLIENTS,
      authTimeoutMs: 15_000,
      idleTimeoutMs: config.ANONBRANCH_ENDPOINT_IDLE_TIMEOUT_SECONDS * 1000,
      maxStartupBytes: 16_384,
    },
    sessionsPerBranch: config.ANONBRANCH_ENDPOINT_SESSIONS_PER_BRANCH,
  });
  return {
    async stop() {
      await endpoints.close();
      await services.boss.stop({ graceful: false, wait: true, timeout: 5_000 }).catch(() => {});
      await metadata.sql.end({ timeout: 5 });
    },
  };
}
