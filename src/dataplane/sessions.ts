// Sessions as a branch's masker: what the worker masks and hardens with, so
// that nothing a branch user wrote (a CHECK, a rule, a policy, a trigger, an
// index expression, a function found through search_path) ever runs with more
// rights than the branch role has. Superuser sessions on a branch database
// only run statements that call no user code (src/dataplane/prepare.ts).
import { connectAs, connectDataPlane, type DataPlaneSql } from "./connection.ts";
import { loginAlone } from "./login.ts";
import type { BranchRoles } from "./roles.ts";

/**
 * Logs `sessions` connections in to `database` as the branch's masker, acting
 * as the branch's owner role (SET ROLE at startup), and runs `fn` with them.
 * The masker stays NOLOGIN except during the login itself.
 */
export async function withMaskerSession<T>(
  sourceUri: string,
  database: string,
  roles: BranchRoles,
  fn: (sql: DataPlaneSql) => Promise<T>,
  sessions = 1,
): Promise<T> {
  const maintenance = connectDataPlane(sourceUri);
  let sql: DataPlaneSql;
  try {
    sql = await loginAlone(maintenance, roles.masker, async (credentials) => {
      const client = connectAs(sourceUri, database, credentials, { max: sessions, pinned: true, params: { role: roles.owner } });
      try {
        // Every session is opened inside the window: a reconnect later would find the role NOLOGIN.
        const rows = await Promise.all(
          Array.from({ length: sessions }, () => client`SELECT pg_catalog.pg_backend_pid() AS pid, pg_catalog.pg_sleep(0.01)`),
        );
        return { value: client, pids: rows.map((r) => r[0]!.pid as number) };
      } catch (error) {
        await client.end({ timeout: 5 });
        throw error;
      }
    });
  } finally {
    await maintenance.end({ timeout: 5 });
  }
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
