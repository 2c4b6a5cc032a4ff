// The metadata database: one postgres.js pool, drizzle on top.
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.ts";

export type Db = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface MetadataDb {
  sql: postgres.Sql;
  db: Db;
}

export function openMetadataDb(url: string, max = 10): MetadataDb {
  // connect_timeout: an unreachable metadata server fails a request in seconds (503), not 30 s.
  const sql = postgres(url, { max, connect_timeout: 10, onnotice: () => {}, connection: { application_name: "anonbranch" } });
  return { sql, db: drizzle(preparingStatements(sql), { schema }) };
}

/**
 * Distinct statement texts a process prepares at most. The app's query builders
 * make a few hundred; the cap bounds what each connection (and its server
 * backend) holds even if some builder's text varied without limit.
 */
const MAX_PREPARED_STATEMENTS = 1000;
/** Statements with more parameters (multi-row inserts, long IN lists) vary with their data: never prepared. */
export const MAX_PREPARED_PARAMETERS = 64;

const preparedTexts = new Set<string>();

/** Whether a drizzle statement is sent as a named, reusable prepared statement. */
function prepares(text: string, parameterCount: number): boolean {
  if (parameterCount > MAX_PREPARED_PARAMETERS) return false;
  if (preparedTexts.has(text)) return true;
  if (preparedTexts.size >= MAX_PREPARED_STATEMENTS) return false;
  preparedTexts.add(text);
  return true;
}

/**
 * drizzle sends every statement it builds unprepared unless it is given a name.
 * postgres.js then asks the server to describe an unprepared statement with
 * parameters before it can bind them: two round trips per statement, and a
 * connection that pipelines nothing (each such statement waits for its
 * description before the next can be sent). Prepared, a statement costs two
 * round trips on its first use on a connection and one afterwards, and
 * independent statements pipeline (src/lib/settle.ts). This hands drizzle the
 * pool, and each transaction's and savepoint's connection, with statements
 * prepared as `prepares()` decides.
 */
function preparingStatements(sql: postgres.Sql): postgres.Sql {
  return new Proxy(sql, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === "unsafe") {
        return (text: string, parameters: postgres.ParameterOrJSON<never>[] = [], options: postgres.UnsafeQueryOptions = {}) =>
          (value as postgres.Sql["unsafe"]).call(target, text, parameters, { ...options, prepare: options.prepare || prepares(text, parameters.length) });
      }
      if (property === "begin" || property === "savepoint") {
        return (...args: unknown[]) => {
          const callback = args.pop() as (inner: postgres.Sql) => unknown;
          return (value as (...a: unknown[]) => unknown).call(target, ...args, (inner: postgres.Sql) => callback(preparingStatements(inner)));
        };
      }
      return value;
    },
  });
}

/**
 * The client of the metadata tables' change notifications (src/control/read-cache.ts): its LISTEN
 * connection (which postgres.js never closes for idleness) and one that sends the heartbeat every
 * second. That one closes after 5 s idle: a client given up on during an outage can still finish a
 * connection it began, after it was ended, and would otherwise keep it open for good.
 */
export function openChangeListener(url: string): postgres.Sql {
  return postgres(url, { max: 1, connect_timeout: 10, idle_timeout: 5, onnotice: () => {}, connection: { application_name: "anonbranch-changes" } });
}
