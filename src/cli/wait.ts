// Following a branch until it is ready: polls anonymized_status and shows
// progress on stderr (a live line on a terminal, one line per change
// otherwise, which is what CI logs want).
import { setTimeout as delay } from "node:timers/promises";
import type { ApiClient } from "./api-client.ts";
import { branchPath } from "./branches.ts";
import type { Output } from "./context.ts";
import { CliError, EXIT } from "./exit.ts";
import { formatSeconds } from "./format.ts";

export interface AnonymizedStatus {
  state: string;
  status_message: string;
  failed_at?: string;
  last_run?: { masked_columns: number };
}

const FAILED = new Set(["error", "initialization_error"]);
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface WaitOptions {
  /** The state that means done: anonymized, or initialized for a branch created without masking. */
  until: "anonymized" | "initialized";
  timeoutMs: number;
  pollMs: number;
  io: Output;
}

export async function waitForBranch(api: ApiClient, project: string, branchId: string, options: WaitOptions): Promise<AnonymizedStatus> {
  const started = Date.now();
  const { io } = options;
  let last = "";
  let tick = 0;
  const show = (status: AnonymizedStatus, final = false) => {
    const elapsed = formatSeconds(Date.now() - started);
    const text = `${status.state}${status.status_message ? `: ${status.status_message}` : ""}`;
    if (io.errIsTty) {
      process.stderr.write(`\r\x1b[2K${final ? "✔" : SPINNER[tick++ % SPINNER.length]} ${text} (${elapsed})${final ? "\n" : ""}`);
    } else if (text !== last) {
      io.err(`[${elapsed}] ${text}`);
    }
    last = text;
  };
  for (;;) {
    const status = await api.request<AnonymizedStatus>("GET", `${branchPath(project, branchId)}/anonymized_status`);
    const done = status.state === options.until || (options.until === "initialized" && status.state === "anonymized");
    show(status, done || FAILED.has(status.state));
    if (done) return status;
    if (FAILED.has(status.state)) {
      if (io.errIsTty) process.stderr.write("\n");
      throw new CliError(`branch ${branchId} failed (${status.state}): ${status.status_message}`, EXIT.failed, { state: status.state });
    }
    if (Date.now() - started > options.timeoutMs) {
      if (io.errIsTty) process.stderr.write("\n");
      throw new CliError(
        `branch ${branchId} is still ${status.state} after ${formatSeconds(options.timeoutMs)} (${status.status_message}); raise --timeout or follow it with: anonbranch status --project ${project} --branch ${branchId} --wait`,
        EXIT.failed,
        { state: status.state },
      );
    }
    await delay(options.pollMs);
  }
}
