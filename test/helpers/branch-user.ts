// What a developer (or an attacker holding a developer key) gets: the
// branch's connection URI from the API, used as is — through the branch's
// endpoint, with the logical role and password.
import assert from "node:assert/strict";
import postgres from "postgres";
import type { Harness } from "./harness.ts";
import type { Sql } from "./pg.ts";

export interface BranchUser {
  uri: string;
  role: string;
  database: string;
  password: string;
}

/** Reads roles, databases and the connection URI of a branch with `token`, as a client would. */
export async function branchCredentials(h: Harness, projectId: string, branchId: string, token?: string): Promise<BranchUser> {
  const base = `/projects/${projectId}/branches/${branchId}`;
  const roles = await h.request("GET", `${base}/roles`, undefined, token);
  assert.equal(roles.status, 200, JSON.stringify(roles.body));
  const databases = await h.request("GET", `${base}/databases`, undefined, token);
  assert.equal(databases.status, 200, JSON.stringify(databases.body));
  const role = roles.body.roles[0].name as string;
  const database = databases.body.databases[0].name as string;
  const uri = await h.request(
    "GET",
    `/projects/${projectId}/connection_uri?branch_id=${branchId}&database_name=${database}&role_name=${role}`,
    undefined,
    token,
  );
  assert.equal(uri.status, 200, JSON.stringify(uri.body));
  const password = await h.request("GET", `${base}/roles/${role}/reveal_password`, undefined, token);
  assert.equal(password.status, 200, JSON.stringify(password.body));
  return { uri: uri.body.uri, role, database, password: password.body.password };
}

/** A client on the branch through its endpoint, as the branch's user. */
export function connectAsUser(user: BranchUser, options: postgres.Options<{}> = {}): Sql {
  return postgres(user.uri, { max: 1, onnotice: () => {}, connect_timeout: 10, ...options });
}
