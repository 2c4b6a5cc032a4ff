// anonbranch status: where a branch is in its lifecycle (exit 1 when it failed).
import { branchPath, resolveBranch } from "../branches.ts";
import { EXIT } from "../exit.ts";
import { parseDuration } from "../format.ts";
import { action, print, type RegisterCommands } from "../run.ts";
import { waitForBranch, type AnonymizedStatus } from "../wait.ts";

interface StatusOptions {
  project: string;
  branch: string;
  wait?: boolean;
  timeout: string;
}

export const registerStatusCommand: RegisterCommands = (program, runtime) => {
  program
    .command("status")
    .description("anonymization state and progress of a branch (exit 1 when it failed)")
    .requiredOption("--project <id>", "project id")
    .requiredOption("--branch <branch>", "branch id or name")
    .option("--wait", "follow it until it is anonymized (or fails)")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 1)", "30m")
    .action(
      action<StatusOptions>(runtime, async (ctx, o) => {
        const timeoutMs = parseDuration(o.timeout, "--timeout") * 1000;
        const api = ctx.api();
        const { id } = await resolveBranch(api, o.project, o.branch);
        const status = o.wait
          ? await waitForBranch(api, o.project, id, { until: "anonymized", timeoutMs, pollMs: Number(ctx.env.ANONBRANCH_POLL_INTERVAL_MS ?? 1000), io: ctx.io })
          : await api.request<AnonymizedStatus & Record<string, unknown>>("GET", `${branchPath(o.project, id)}/anonymized_status`);
        print(ctx, status, () => [
          `${status.state}: ${status.status_message}`,
          ...(status.last_run ? [`last run: ${status.last_run.masked_columns} masked columns`] : []),
        ]);
        return status.state === "error" || status.state === "initialization_error" ? EXIT.failed : EXIT.ok;
      }),
    );
};
