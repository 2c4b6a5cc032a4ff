// GitHub Actions: step outputs through the file named by $GITHUB_OUTPUT, and
// secrets masked in the log with the ::add-mask:: workflow command.
import { appendFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { Output } from "./context.ts";
import { usageError } from "./exit.ts";

/** Appends outputs in the file format GitHub reads (multi-line values with a random delimiter). */
export function writeGithubOutputs(env: NodeJS.ProcessEnv, outputs: Record<string, string>): void {
  const file = env.GITHUB_OUTPUT;
  if (!file) throw usageError("--github-output: $GITHUB_OUTPUT is not set (it is inside a GitHub Actions step)");
  let text = "";
  for (const [name, value] of Object.entries(outputs)) {
    if (!value.includes("\n")) {
      text += `${name}=${value}\n`;
    } else {
      const delimiter = `ghadelimiter_${randomBytes(8).toString("hex")}`;
      text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    }
  }
  appendFileSync(file, text);
}

/** Tells the runner to hide `secret` in every later line of the log (must come before it is printed). */
export function maskInGithubLog(io: Output, secret: string): void {
  if (secret) io.out(`::add-mask::${secret}`);
}
