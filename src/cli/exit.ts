// Exit codes scripts can rely on (documented in the README, "CLI"), and the
// one error type commands throw to pick one.

export const EXIT = {
  /** Done, and all is as asked. */
  ok: 0,
  /** Done, and the answer is "no": rules differ, a coverage gap, a branch that failed or did not finish in time. */
  failed: 1,
  /** The command line, the configuration or a rules file is wrong; nothing was sent. */
  usage: 2,
  /** The API refused the request (HTTP 4xx); its message is printed. */
  refused: 3,
  /** The API could not be reached or failed (network, timeout, HTTP 5xx). */
  unavailable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Extra fields for --json output (status, code, request_id, …). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);
