// anonbranch rules pull | push | diff: masking rules as a YAML file, for a
// project (its rules and not-sensitive decisions) or one branch (its rules).
import type { Command } from "commander";
import type { ApiClient } from "../api-client.ts";
import { branchPath, resolveBranch } from "../branches.ts";
import type { CliContext } from "../context.ts";
import { EXIT } from "../exit.ts";
import { diffRules, formatDiff, isEmptyDiff } from "../rules-diff.ts";
import { readRulesFile, writeRulesFile, type NotSensitive, type Rule, type RulesFile } from "../rules-file.ts";
import { action, print, type CliRuntime, type RegisterCommands } from "../run.ts";
import { registerRulesCheck } from "./rules-check.ts";

interface RulesOptions {
  project: string;
  branch?: string;
  file: string;
}

const projectPath = (project: string) => `/projects/${encodeURIComponent(project)}`;

/** A rule as the API answers it, with the null field left out. */
function cleanRule(r: Rule): Rule {
  const { database_name, schema_name, table_name, column_name } = r;
  return r.masking_function ? { database_name, schema_name, table_name, column_name, masking_function: r.masking_function } : { database_name, schema_name, table_name, column_name, masking_value: r.masking_value ?? "" };
}

interface Target {
  api: ApiClient;
  /** Set when the command is about one branch. */
  branchId?: string;
  label: string;
}

async function targetOf(ctx: CliContext, o: RulesOptions): Promise<Target> {
  const api = ctx.api();
  if (!o.branch) return { api, label: `project ${o.project}` };
  const { id } = await resolveBranch(api, o.project, o.branch);
  return { api, branchId: id, label: `branch ${id}` };
}

/** What the server holds: a branch's rules, or the project's rules and decisions. */
async function serverRules(o: RulesOptions, t: Target): Promise<RulesFile> {
  if (t.branchId) {
    const { masking_rules } = await t.api.request<{ masking_rules: Rule[] }>("GET", `${branchPath(o.project, t.branchId)}/masking_rules`);
    return { rules: masking_rules.map(cleanRule), notSensitive: [] };
  }
  const { masking_rules } = await t.api.request<{ masking_rules: Rule[] }>("GET", `${projectPath(o.project)}/masking_rules`);
  const { not_sensitive_columns } = await t.api.request<{ not_sensitive_columns: NotSensitive[] }>("GET", `${projectPath(o.project)}/not_sensitive_columns`);
  return {
    rules: masking_rules.map(cleanRule),
    notSensitive: not_sensitive_columns.map(({ database_name, schema_name, table_name, column_name, reason }) => ({
      database_name, schema_name, table_name, column_name, ...(reason ? { reason } : {}),
    })),
  };
}

/** Branches have rules only: decisions in the file are the project's business. */
function forTarget(ctx: CliContext, file: RulesFile, t: Target, path: string): RulesFile {
  if (!t.branchId || file.notSensitive.length === 0) return file;
  if (!ctx.json) ctx.io.err(`note: the ${file.notSensitive.length} not_sensitive entries of ${path} are project-wide; they are left out for a branch`);
  return { rules: file.rules, notSensitive: [] };
}

const options = (command: Command, verb: string) =>
  command
    .requiredOption("--project <id>", "project id")
    .option("--branch <branch>", `${verb} a branch's rules (id or name) instead of the project's`)
    .requiredOption("--file <path>", "the rules file (YAML)");

function registerPull(rules: Command, runtime: CliRuntime): void {
  options(rules.command("pull").description("write the server's rules into the file (comments in an existing file are kept)"), "pull")
    .action(
      action<RulesOptions>(runtime, async (ctx, o) => {
        const t = await targetOf(ctx, o);
        const server = await serverRules(o, t);
        writeRulesFile(o.file, server);
        print(ctx, { file: o.file, rules: server.rules.length, not_sensitive: server.notSensitive.length }, () => [
          `wrote ${o.file}: ${server.rules.length} rules${t.branchId ? "" : `, ${server.notSensitive.length} not-sensitive decisions`} of ${t.label}`,
        ]);
      }),
    );
}

function registerPush(rules: Command, runtime: CliRuntime): void {
  options(rules.command("push").description("replace the server's rules with the file's (validated by the API; nothing changes on a refusal)"), "push to")
    .action(
      action<RulesOptions>(runtime, async (ctx, o) => {
        const t = await targetOf(ctx, o);
        const file = forTarget(ctx, readRulesFile(o.file), t, o.file);
        if (t.branchId) {
          const body = await t.api.request("PATCH", `${branchPath(o.project, t.branchId)}/masking_rules`, { masking_rules: file.rules });
          return print(ctx, body, () => [`pushed ${file.rules.length} rules to ${t.label}`]);
        }
        // Rules first: their validation is the strict one; the decisions only name existing columns.
        const rulesBody = await t.api.request("PUT", `${projectPath(o.project)}/masking_rules`, { masking_rules: file.rules });
        const decisionsBody = await t.api.request("PUT", `${projectPath(o.project)}/not_sensitive_columns`, {
          not_sensitive_columns: file.notSensitive,
        });
        print(ctx, { ...rulesBody, ...decisionsBody }, () => [
          `pushed ${file.rules.length} rules and ${file.notSensitive.length} not-sensitive decisions to ${t.label}`,
        ]);
      }),
    );
}

function registerDiff(rules: Command, runtime: CliRuntime): void {
  options(rules.command("diff").description("show what push would change: + added, - removed, ~ changed (exit 1 when they differ)"), "compare with")
    .action(
      action<RulesOptions>(runtime, async (ctx, o) => {
        const t = await targetOf(ctx, o);
        const file = forTarget(ctx, readRulesFile(o.file), t, o.file);
        const diff = diffRules(file, await serverRules(o, t));
        const same = isEmptyDiff(diff);
        print(ctx, { same, ...diff }, () =>
          same
            ? [`${o.file} and ${t.label} have the same rules`]
            : [
                ...formatDiff(diff),
                `${o.file} differs from ${t.label}: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed`,
              ],
        );
        return same ? EXIT.ok : EXIT.failed;
      }),
    );
}

export const registerRulesCommands: RegisterCommands = (program, runtime) => {
  const rules = program.command("rules").description("masking rules as code: pull, push, diff, check");
  registerPull(rules, runtime);
  registerPush(rules, runtime);
  registerDiff(rules, runtime);
  registerRulesCheck(rules, runtime);
};
