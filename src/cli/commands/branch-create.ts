// anonbranch branch create: an anonymized branch, optionally followed until
// it is masked and handed over as a connection URI (and GitHub outputs).
import { Option, type Command } from "commander";
import type { ApiClient } from "../api-client.ts";
import { isStatus } from "../api-client.ts";
import { branchPath, resolveBranch, type BranchRef } from "../branches.ts";
import { CliError, EXIT } from "../exit.ts";
import { parseDuration } from "../format.ts";
import { maskInGithubLog, writeGithubOutputs } from "../github.ts";
import { readRulesFile } from "../rules-file.ts";
import { action, print, type CliRuntime } from "../run.ts";
import { waitForBranch } from "../wait.ts";

interface CreateOptions {
  project: string;
  name?: string;
  parent?: string;
  rules?: string;
  ttl?: string;
  anonymize: boolean;
  wait?: boolean;
  timeout: string;
  database?: string;
  githubOutput?: boolean;
  reuse?: boolean;
}

export interface Connection {
  database_name: string;
  role_name: string;
  db_url: string;
  db_host: string;
  password: string;
}

/**
 * The branch's connection URI, asked for only once the branch is ready: the
 * API withholds credentials until then (or, with an endpoint in front of the
 * branch, hands them out early but the endpoint admits nobody yet).
 */
export async function connectionOf(api: ApiClient, project: string, branchId: string, database?: string): Promise<Connection> {
  const { roles } = await api.request<{ roles: { name: string }[] }>("GET", `${branchPath(project, branchId)}/roles`);
  const { databases } = await api.request<{ databases: { name: string }[] }>("GET", `${branchPath(project, branchId)}/databases`);
  const role = roles[0]?.name;
  if (!role) throw new CliError(`branch ${branchId} has no role yet`, EXIT.failed);
  const db = database ?? databases[0]?.name;
  if (!db || !databases.some((d) => d.name === db)) {
    throw new CliError(`branch ${branchId} has no database ${db ?? ""} (it has: ${databases.map((d) => d.name).join(", ") || "none"})`, EXIT.usage);
  }
  const query = new URLSearchParams({ branch_id: branchId, database_name: db, role_name: role });
  const { uri } = await api.request<{ uri: string }>("GET", `/projects/${encodeURIComponent(project)}/connection_uri?${query}`);
  const url = new URL(uri);
  return { database_name: db, role_name: role, db_url: uri, db_host: url.hostname, password: decodeURIComponent(url.password) };
}

async function findBranch(api: ApiClient, project: string, name: string): Promise<BranchRef | undefined> {
  try {
    return await resolveBranch(api, project, name);
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

export const registerBranchCreate = (branch: Command, runtime: CliRuntime): void => {
  branch
    .command("create")
    .description("create an anonymized branch (masked with the file's rules, or the project's)")
    .requiredOption("--project <id>", "project id")
    .option("--name <name>", "branch name (default: the branch id)")
    .option("--parent <branch>", "parent branch id or name (default: the project's default branch)")
    .option("--rules <file>", "masking rules file (YAML, see `rules pull`); default: the project's rules")
    .option("--ttl <duration>", "delete the branch after this long, e.g. 2d, 12h, 1h30m")
    .option("--reuse", "when a branch of that --name exists, use it instead of failing (e.g. on every push to a pull request)")
    .option("--no-anonymize", "clone and prepare only; mask later with POST …/anonymize")
    .option("--wait", "follow the branch until it is ready and print its connection URI")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 1)", "30m")
    .option("--database <name>", "with --wait: the database of the URI (default: the first)")
    .addOption(new Option("--github-output", "write branch_id (and with --wait db_url, db_host, password) to $GITHUB_OUTPUT"))
    .action(
      action<CreateOptions>(runtime, async (ctx, o) => {
        const expiresAt = o.ttl ? new Date(Date.now() + parseDuration(o.ttl, "--ttl") * 1000).toISOString() : undefined;
        const timeoutMs = parseDuration(o.timeout, "--timeout") * 1000;
        const rules = o.rules ? readRulesFile(o.rules).rules : undefined;
        if (o.githubOutput && !ctx.env.GITHUB_OUTPUT) {
          throw new CliError("--github-output: $GITHUB_OUTPUT is not set (it is inside a GitHub Actions step)", EXIT.usage);
        }
        const api = ctx.api();
        const parentId = o.parent ? (await resolveBranch(api, o.project, o.parent)).id : undefined;
        const existing = o.reuse && o.name ? await findBranch(api, o.project, o.name) : undefined;
        const branch = existing
          ? (await api.request("GET", branchPath(o.project, existing.id))).branch
          : (
              await api.request("POST", `/projects/${encodeURIComponent(o.project)}/branch_anonymized`, {
                branch_create: { branch: { name: o.name, parent_id: parentId, expires_at: expiresAt } },
                ...(rules ? { masking_rules: rules } : {}),
                start_anonymization: o.anonymize,
              })
            ).branch;
        const branchId: string = branch.id;
        const summary = { branch_id: branchId, branch_name: branch.name as string, expires_at: branch.expires_at as string | undefined, reused: Boolean(existing) };
        if (!ctx.json) {
          ctx.io.err(`${existing ? "reusing" : "created"} branch ${branchId} (${summary.branch_name})${summary.expires_at ? `, expires ${summary.expires_at}` : ""}`);
        }
        if (!o.wait) {
          if (o.githubOutput) writeGithubOutputs(ctx.env, { branch_id: branchId });
          print(ctx, { ...summary, state: "created" }, () => [branchId]);
          return;
        }
        const status = await waitForBranch(api, o.project, branchId, {
          until: o.anonymize ? "anonymized" : "initialized",
          timeoutMs,
          pollMs: Number(ctx.env.ANONBRANCH_POLL_INTERVAL_MS ?? 1000),
          io: ctx.io,
        });
        if (!o.anonymize) {
          if (o.githubOutput) writeGithubOutputs(ctx.env, { branch_id: branchId });
          print(ctx, { ...summary, state: status.state }, () => [branchId]);
          return;
        }
        const connection = await connectionOf(api, o.project, branchId, o.database);
        if (o.githubOutput) {
          maskInGithubLog(ctx.io, connection.password);
          writeGithubOutputs(ctx.env, { branch_id: branchId, db_url: connection.db_url, db_host: connection.db_host, password: connection.password });
        }
        const { password: _password, ...shown } = connection;
        print(ctx, { ...summary, state: status.state, status_message: status.status_message, ...shown }, () => [connection.db_url]);
      }),
    );
};
