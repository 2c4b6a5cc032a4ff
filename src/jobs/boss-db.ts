// Lets pg-boss enqueue inside a drizzle transaction (STYLE §4: a rollback never
// leaves an orphan job). pg-boss hands us positional SQL ($1, $2 …); we rebuild
// it as a drizzle SQL object with bound parameters and run it on the transaction.
import { type SQL, sql } from "drizzle-orm";
import type PgBoss from "pg-boss";

interface Executor {
  execute(query: SQL): PromiseLike<unknown>;
}

function toBindable(value: unknown): unknown {
  if (value === undefined) return null; // drizzle drops undefined parameters
  // pg serialises plain objects as JSON; postgres.js needs it done for it.
  if (value !== null && typeof value === "object" && !(value instanceof Date) && !Array.isArray(value)) {
    return JSON.stringify(value);
  }
  return value;
}

export function toDrizzleSql(text: string, values: readonly unknown[]): SQL {
  const parts = text.split(/\$(\d+)\b/);
  const chunks: SQL[] = [];
  parts.forEach((part, i) => {
    if (i % 2 === 0) chunks.push(sql.raw(part));
    else chunks.push(sql`${toBindable(values[Number(part) - 1])}`);
  });
  return sql.join(chunks);
}

export function bossDb(executor: Executor): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[]) {
      const rows = (await executor.execute(toDrizzleSql(text, values ?? []))) as unknown[];
      return { rows: [...rows] };
    },
  };
}
