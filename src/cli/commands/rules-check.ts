// anonbranch rules check: the coverage gate. Exit 1, with a table, when a
// column that looks like personal data has no rule and no not-sensitive
// decision (in the file, or stored for the project), or when the file's
// rules would be refused.
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { EXIT } from "../exit.ts";
import { table } from "../format.ts";
import { columnName } from "../rules-diff.ts";
import { readRulesFile, type Rule } from "../rules-file.ts";
import { action, print, type CliRuntime } from "../run.ts";

interface CheckOptions {
  project: string;
  file?: string;
  sample?: boolean;
}

interface SensitiveColumn {
  database_name: string;
  schema_name: string;
  table_name: string;
  column_name: string;
  category: string;
  detected_by: string[];
  evidence?: { detector: string; found_in: string; share: number }[];
  suggested_rule?: Rule;
  note?: string;
  masked: boolean;
  not_sensitive?: unknown;
}

const suggestion = (c: SensitiveColumn): string =>
  c.suggested_rule?.masking_function
    ? `function: ${c.suggested_rule.masking_function}`
    : c.suggested_rule?.masking_value
      ? `value: ${c.suggested_rule.masking_value}`
      : (c.note ?? "");

const foundBy = (c: SensitiveColumn): string =>
  c.evidence?.length ? `${c.detected_by.join("+")} (${c.evidence[0]!.detector} ${Math.round(c.evidence[0]!.share * 100)}%)` : c.detected_by.join("+");

async function check(ctx: CliContext, o: CheckOptions) {
  const file = o.file ? readRulesFile(o.file) : undefined;
  const api = ctx.api();
  const project = `/projects/${encodeURIComponent(o.project)}`;
  const scan = await api.request<{ columns: SensitiveColumn[] }>("GET", `${project}/sensitive_columns${o.sample ? "?sample=true" : ""}`);
  const problems = file
    ? (await api.request<{ problems: { message: string }[] }>("POST", `${project}/masking_rules/validate`, { masking_rules: file.rules })).problems
    : [];
  const inFile = new Set([...(file?.rules ?? []), ...(file?.notSensitive ?? [])].map(columnName));
  const covered = (c: SensitiveColumn) => Boolean(c.not_sensitive) || (file ? inFile.has(columnName(c)) : c.masked);
  const uncovered = scan.columns.filter((c) => !covered(c));
  return { file, scan, problems, uncovered };
}

export function registerRulesCheck(rules: Command, runtime: CliRuntime): void {
  rules
    .command("check")
    .description("coverage gate: exit 1 when a sensitive-looking column has no rule and no not_sensitive decision")
    .requiredOption("--project <id>", "project id")
    .option("--file <path>", "check this rules file (default: the project's stored rules)")
    .option("--sample", "also look at a sample of values (admin token; at most 1,000 rows per table)")
    .action(
      action<CheckOptions>(runtime, async (ctx, o) => {
        const { file, scan, problems, uncovered } = await check(ctx, o);
        const source = o.file ?? `project ${o.project}'s rules`;
        const ok = uncovered.length === 0 && problems.length === 0;
        print(
          ctx,
          {
            ok,
            sensitive: scan.columns.length,
            uncovered: uncovered.map((c) => ({
              column: columnName(c), category: c.category, detected_by: c.detected_by, evidence: c.evidence, suggested_rule: c.suggested_rule, note: c.note,
            })),
            invalid_rules: problems,
          },
          () => [
            ...(problems.length > 0 ? [`${o.file} has rules the API would refuse:`, ...problems.map((p) => `  ${p.message}`), ""] : []),
            ...(uncovered.length > 0
              ? [
                  ...table(["COLUMN", "CATEGORY", "FOUND BY", "SUGGESTION"], uncovered.map((c) => [columnName(c), c.category, foundBy(c), suggestion(c)])),
                  "",
                  `${uncovered.length} of ${scan.columns.length} sensitive-looking columns have no rule and no not_sensitive decision in ${source}`,
                  file ? `add a rule (function: or value:) or not_sensitive: true for each to ${o.file}` : "add rules with PUT …/masking_rules or check a file with --file",
                ]
              : [`all ${scan.columns.length} sensitive-looking columns are covered by ${source}`]),
          ],
        );
        return ok ? EXIT.ok : EXIT.failed;
      }),
    );
}
