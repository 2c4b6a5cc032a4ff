// The roles of a branch on its data-plane server, and keeping them as made.
//
//   owner   <stem>_owner  owns the branch's objects; nobody logs in as it.
//   masker  <stem>_mask   member of owner; the worker logs in as it to mask.
//   gateway <stem>_c<n>   members of owner; the endpoint proxy logs in as them.
//
// All are NOLOGIN except inside a login window (src/dataplane/login.ts). A
// session as any of them can still change things about its own role that a
// later, more trusted step might rely on — its password, its role-level
// settings, and (as session user, PostgreSQL ≤ 15) grant membership in itself
// to anyone. normalizeBranchRoles() undoes all of that before the worker uses
// the roles, and refuses to go on if an attribute changed (which only a
// superuser could have done).
import { quoteIdent } from "../lib/sql-quote.ts";
import type { Queryable } from "./connection.ts";
import { gatewayRolePrefix } from "./names.ts";

export interface BranchRoles {
  owner: string;
  masker: string;
  /** Prefix of the gateway roles' names (starts_with, not LIKE: names contain `_`). */
  gatewayPrefix: string;
}

export function branchRoles(branchId: string, owner: string, masker: string): BranchRoles {
  return { owner, masker, gatewayPrefix: gatewayRolePrefix(branchId) };
}

const ATTRIBUTES = "NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT";

export class RoleTampered extends Error {}

async function roleExists(admin: Queryable, role: string): Promise<boolean> {
  const rows = await admin`SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${role}`;
  return rows.length > 0;
}

/**
 * Creates the owner and masker roles when missing (idempotent). Neither can
 * log in, and neither gets any access here: the branch's databases grant them
 * what they need later (src/dataplane/clone.ts, anonymize.ts).
 */
export async function ensureBranchRoles(admin: Queryable, roles: BranchRoles): Promise<void> {
  for (const role of [roles.owner, roles.masker]) {
    const verb = (await roleExists(admin, role)) ? "ALTER" : "CREATE";
    // The masker bypasses row security: a forced policy must not hide rows from masking.
    const rls = role === roles.masker ? "BYPASSRLS" : "NOBYPASSRLS";
    await admin.unsafe(`${verb} ROLE ${quoteIdent(role)} ${ATTRIBUTES} ${rls} PASSWORD NULL`);
  }
  await admin.unsafe(`GRANT ${quoteIdent(roles.owner)} TO ${quoteIdent(roles.masker)}`);
}

/** The branch's role names that exist now: owner, masker and every gateway. */
export async function existingBranchRoles(admin: Queryable, roles: BranchRoles): Promise<string[]> {
  const rows = await admin`
    SELECT rolname FROM pg_catalog.pg_roles
    WHERE rolname = ${roles.owner} OR rolname = ${roles.masker}
       OR pg_catalog.starts_with(rolname, ${roles.gatewayPrefix})
    ORDER BY rolname`;
  return rows.map((r) => r.rolname as string);
}

/**
 * Puts the branch's roles back the way anonbranch made them:
 *  - memberships: masker and gateways are members of owner, nothing else —
 *    a membership granted by a branch session (in itself, to a parent role)
 *    is revoked, so nobody inherits the masker's CONNECT on a fresh clone;
 *  - role-level settings (ALTER ROLE … [IN DATABASE …] SET) are reset, so a
 *    later login as the masker does not start with the branch user's choices;
 *  - attributes: a branch role that gained one (superuser, createrole …) is
 *    reported as RoleTampered — only a superuser can do that; nothing of the
 *    branch is used until an admin looks.
 */
export async function normalizeBranchRoles(admin: Queryable, roles: BranchRoles): Promise<{ revoked: string[] }> {
  const names = await existingBranchRoles(admin, roles);
  const escalated = await admin`
    SELECT rolname FROM pg_catalog.pg_roles
    WHERE rolname = ANY(${names}) AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR (rolbypassrls AND rolname <> ${roles.masker}))`;
  if (escalated.length > 0) {
    throw new RoleTampered(
      `branch role ${escalated.map((r) => r.rolname).join(", ")} has gained a privileged attribute (superuser, createrole, createdb, replication or bypassrls); refusing to use it — an admin must investigate`,
    );
  }
  const memberships = await admin`
    SELECT r.rolname AS role, m.rolname AS member
    FROM pg_catalog.pg_auth_members am
    JOIN pg_catalog.pg_roles r ON r.oid = am.roleid
    JOIN pg_catalog.pg_roles m ON m.oid = am.member
    WHERE r.rolname = ANY(${names}) OR m.rolname = ANY(${names})`;
  const expected = (role: string, member: string): boolean =>
    role === roles.owner && (member === roles.masker || member.startsWith(roles.gatewayPrefix));
  const revoked: string[] = [];
  for (const { role, member } of memberships as unknown as { role: string; member: string }[]) {
    if (expected(role, member)) continue;
    await admin.unsafe(`REVOKE ${quoteIdent(role)} FROM ${quoteIdent(member)} CASCADE`);
    revoked.push(`${member} in ${role}`);
  }
  const settings = await admin`
    SELECT r.rolname AS role, d.datname AS database
    FROM pg_catalog.pg_db_role_setting s
    JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
    LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
    WHERE r.rolname = ANY(${names})`;
  for (const { role, database } of settings as unknown as { role: string; database: string | null }[]) {
    const where = database === null ? "" : ` IN DATABASE ${quoteIdent(database)}`;
    await admin.unsafe(`ALTER ROLE ${quoteIdent(role)}${where} RESET ALL`);
  }
  return { revoked };
}

/** Drops every role of the branch (its databases must be gone: they own nothing else). */
export async function dropBranchRoles(admin: Queryable, roles: BranchRoles): Promise<void> {
  const names = await existingBranchRoles(admin, roles);
  // Members first: DROP ROLE owner would otherwise fail on nothing, but keep the order obvious.
  for (const name of names.filter((n) => n !== roles.owner)) await admin.unsafe(`DROP ROLE IF EXISTS ${quoteIdent(name)}`);
  await admin.unsafe(`DROP ROLE IF EXISTS ${quoteIdent(roles.owner)}`);
}
