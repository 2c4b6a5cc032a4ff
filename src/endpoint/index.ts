// The endpoint engine's public surface: what the coordinator codes against.
export { ensureEndpointCertificate, type EndpointCertificate } from "./certificate.ts";
export { formatScramVerifier, parseScramVerifier, scramVerifierFor } from "./scram.ts";
export { createEndpointServer } from "./server.ts";
export * from "./types.ts";
