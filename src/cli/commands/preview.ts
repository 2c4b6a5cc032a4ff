// anonbranch preview: rows of a table as the branch's current rules mask them.
import { branchPath, resolveBranch } from "../branches.ts";
import { usageError } from "../exit.ts";
import { table } from "../format.ts";
import { action, print, type RegisterCommands } from "../run.ts";

interface PreviewOptions {
  project: string;
  branch: string;
  table: string;
  database?: string;
  limit: string;
}

interface Preview {
  database_name: string;
  schema_name: string;
  table_name: string;
  columns: { name: string; masked: boolean; masking_function?: string; masking_value?: string }[];
  rows: Record<string, unknown>[];
}

const cell = (v: unknown): string => (v === null || v === undefined ? "NULL" : typeof v === "string" ? v : JSON.stringify(v));

export const registerPreviewCommand: RegisterCommands = (program, runtime) => {
  program
    .command("preview")
    .description("rows of a table as the branch's rules mask them, computed without changing the branch (initialized or later)")
    .requiredOption("--project <id>", "project id")
    .requiredOption("--branch <branch>", "branch id or name")
    .requiredOption("--table <schema.table>", "the table (schema public when omitted)")
    .option("--database <name>", "logical database (default: the branch's first)")
    .option("--limit <n>", "rows, 1 to 100", "20")
    .action(
      action<PreviewOptions>(runtime, async (ctx, o) => {
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw usageError(`--limit: "${o.limit}" is not a number from 1 to 100`);
        const api = ctx.api();
        const { id } = await resolveBranch(api, o.project, o.branch);
        const query = new URLSearchParams({ table: o.table, limit: String(limit), ...(o.database ? { database: o.database } : {}) });
        const preview = await api.request<Preview>("GET", `${branchPath(o.project, id)}/preview?${query}`);
        print(ctx, preview, () => [
          `${preview.database_name}.${preview.schema_name}.${preview.table_name} (masked columns marked *)`,
          ...table(
            preview.columns.map((c) => (c.masked ? `${c.name}*` : c.name)),
            preview.rows.map((r) => preview.columns.map((c) => cell(r[c.name]))),
          ),
        ]);
      }),
    );
};
