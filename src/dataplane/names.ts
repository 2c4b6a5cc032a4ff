// Physical names on the data-plane server and what clients see (endpoints,
// hosts). Kept in one module so a proxy that accepts logical names can slot in.
import { createHash } from "node:crypto";

const MAX_IDENTIFIER_BYTES = 63;

function fit(name: string, seed: string): string {
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash("sha256").update(seed).digest("hex").slice(0, 8);
  let head = name;
  while (Buffer.byteLength(`${head}_${hash}`) > MAX_IDENTIFIER_BYTES) head = head.slice(0, -1);
  return `${head}_${hash}`;
}

const branchStem = (branchId: string): string => branchId.replaceAll("-", "_");

/** The branch's copy of a parent database: br_<id>__<logical name>, ≤ 63 bytes. */
export function physicalDatabaseName(branchId: string, logicalName: string): string {
  return fit(`${branchStem(branchId)}__${logicalName}`, `${branchId}/${logicalName}`);
}

/** Every role of a branch (owner, masker, gateways) starts with this. */
export function branchRolePrefix(branchId: string): string {
  return `${branchStem(branchId)}_`;
}

/** The role that owns an anonymized branch's objects; nobody logs in as it. */
export function branchRoleName(branchId: string): string {
  return fit(`${branchStem(branchId)}_owner`, branchId);
}

/**
 * The role the worker logs in as to mask and harden a branch: a member of the
 * branch role (so it acts with exactly the branch role's rights), the only
 * role besides the admin with CONNECT on the branch's databases before they
 * are anonymized, and NOLOGIN except while the worker logs in.
 */
export function maskerRoleName(branchId: string): string {
  return fit(`${branchStem(branchId)}_mask`, `${branchId}/mask`);
}

/**
 * Login roles the endpoint proxy uses for client sessions of a branch: members
 * of the branch role, NOLOGIN except for the instant the proxy logs in, one
 * per concurrent session (see src/dataplane/login.ts for why not one shared).
 */
export function gatewayRolePrefix(branchId: string): string {
  return `${branchStem(branchId)}_c`;
}

export function gatewayRoleName(branchId: string, n: number): string {
  return fit(`${gatewayRolePrefix(branchId)}${n}`, `${branchId}/c${n}`);
}
