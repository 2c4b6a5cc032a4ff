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

/** The login role that owns an anonymized branch. */
export function branchRoleName(branchId: string): string {
  return fit(`${branchStem(branchId)}_owner`, branchId);
}
