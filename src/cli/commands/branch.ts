// anonbranch branch list | get | delete | reset (create is in branch-create.ts).
import type { Command } from "commander";
import { isStatus } from "../api-client.ts";
import { branchPath, resolveBranch } from "../branches.ts";
import { parseDuration, table } from "../format.ts";
import { action, print, type CliRuntime, type RegisterCommands } from "../run.ts";
import { waitForBranch } from "../wait.ts";
import { registerBranchCreate } from "./branch-create.ts";

interface Branch {
  id: string;
  name: string;
  current_state: string;
  anonymized?: boolean;
  default?: boolean;
  parent_id?: string;
  expires_at?: string;
  created_at: string;
}

interface ProjectOption {
  project: string;
}
interface BranchOptions extends ProjectOption {
  branch: string;
}

const projectPath = (project: string) => `/projects/${encodeURIComponent(project)}`;

function registerList(branch: Command, runtime: CliRuntime): void {
  branch
    .command("list")
    .description("list the project's branches")
    .requiredOption("--project <id>", "project id")
    .option("--search <text>", "only branches whose name or id contains this")
    .action(
      action<ProjectOption & { search?: string }>(runtime, async (ctx, o) => {
        const query = new URLSearchParams({ limit: "10000", sort_by: "created_at", sort_order: "asc" });
        if (o.search) query.set("search", o.search);
        const { branches } = await ctx.api().request<{ branches: Branch[] }>("GET", `${projectPath(o.project)}/branches?${query}`);
        print(ctx, { branches }, () =>
          table(
            ["ID", "NAME", "STATE", "KIND", "EXPIRES"],
            branches.map((b) => [b.id, b.name, b.current_state, b.default ? "default" : b.anonymized ? "anonymized" : "", b.expires_at ?? ""]),
          ),
        );
      }),
    );
}

function registerGet(branch: Command, runtime: CliRuntime): void {
  branch
    .command("get")
    .description("show one branch (by id or name)")
    .requiredOption("--project <id>", "project id")
    .requiredOption("--branch <branch>", "branch id or name")
    .action(
      action<BranchOptions>(runtime, async (ctx, o) => {
        const api = ctx.api();
        const { id } = await resolveBranch(api, o.project, o.branch);
        const body = await api.request<{ branch: Branch }>("GET", branchPath(o.project, id));
        const b = body.branch;
        print(ctx, body, () => [
          `id:          ${b.id}`,
          `name:        ${b.name}`,
          `state:       ${b.current_state}${b.anonymized ? " (anonymized branch)" : ""}`,
          `parent:      ${b.parent_id ?? "-"}`,
          `created:     ${b.created_at}`,
          `expires:     ${b.expires_at ?? "never"}`,
        ]);
      }),
    );
}

function registerDelete(branch: Command, runtime: CliRuntime): void {
  branch
    .command("delete")
    .description("delete a branch (its databases and role are dropped in the background)")
    .requiredOption("--project <id>", "project id")
    .requiredOption("--branch <branch>", "branch id or name")
    .option("--if-exists", "a branch that is already gone is not an error (exit 0)")
    .action(
      action<BranchOptions & { ifExists?: boolean }>(runtime, async (ctx, o) => {
        const api = ctx.api();
        try {
          const { id } = await resolveBranch(api, o.project, o.branch);
          const body = await api.request("DELETE", branchPath(o.project, id));
          print(ctx, body, () => [`deleted branch ${id}`]);
        } catch (error) {
          if (!o.ifExists || !isStatus(error, 404)) throw error;
          print(ctx, { deleted: false, reason: "not found" }, () => [`branch ${o.branch} does not exist; nothing to delete`]);
        }
      }),
    );
}

function registerReset(branch: Command, runtime: CliRuntime): void {
  branch
    .command("reset")
    .description("re-clone an anonymized branch from its parent and mask it again (same id, name, role and password)")
    .requiredOption("--project <id>", "project id")
    .requiredOption("--branch <branch>", "branch id or name")
    .option("--wait", "follow the branch until it is anonymized again")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 1)", "30m")
    .action(
      action<BranchOptions & { wait?: boolean; timeout: string }>(runtime, async (ctx, o) => {
        const timeoutMs = parseDuration(o.timeout, "--timeout") * 1000;
        const api = ctx.api();
        const { id } = await resolveBranch(api, o.project, o.branch);
        const body = await api.request("POST", `${branchPath(o.project, id)}/reset_to_parent`);
        if (!o.wait) return print(ctx, body, () => [`resetting branch ${id}`]);
        // The reset answer has already moved the branch back to "created": no stale "anonymized" to mistake.
        const status = await waitForBranch(api, o.project, id, {
          until: "anonymized",
          timeoutMs,
          pollMs: Number(ctx.env.ANONBRANCH_POLL_INTERVAL_MS ?? 1000),
          io: ctx.io,
        });
        print(ctx, { branch_id: id, ...status }, () => [`branch ${id} is ${status.state}`]);
      }),
    );
}

export const registerBranchCommands: RegisterCommands = (program, runtime) => {
  const branch = program.command("branch").description("anonymized branches: create, list, get, delete, reset");
  registerBranchCreate(branch, runtime);
  registerList(branch, runtime);
  registerGet(branch, runtime);
  registerDelete(branch, runtime);
  registerReset(branch, runtime);
};
