// Checks a data-plane server before it is registered: reachable, a superuser,
// the parent databases exist, and an anon engine is installed.
import { describeError, withDataPlane } from "./connection.ts";

export interface ServerProbe {
  pgVersion: number;
  user: string;
  missingDatabases: string[];
  anonAvailable: boolean;
  superuser: boolean;
}

export class DataPlaneUnreachable extends Error {}

export async function probeServer(sourceUri: string, databases: string[]): Promise<ServerProbe> {
  try {
    return await withDataPlane(sourceUri, null, async (sql) => {
      const [info] = await sql`
        SELECT pg_catalog.current_setting('server_version_num')::int / 10000 AS version,
               current_user AS user,
               (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS superuser,
               EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'anon') AS anon`;
      const present = await sql`
        SELECT datname FROM pg_catalog.pg_database
        WHERE datname = ANY(${databases}) AND NOT datistemplate`;
      const found = new Set(present.map((r) => r.datname as string));
      return {
        pgVersion: info!.version as number,
        user: info!.user as string,
        superuser: info!.superuser as boolean,
        anonAvailable: info!.anon as boolean,
        missingDatabases: databases.filter((d) => !found.has(d)),
      };
    });
  } catch (error) {
    throw new DataPlaneUnreachable(describeError(error));
  }
}
