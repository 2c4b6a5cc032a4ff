// `anonbranch …`: the command-line client of the anonbranch HTTP API.
// Configuration: ANONBRANCH_API_URL and ANONBRANCH_TOKEN (or --api-url,
// --token; in GitHub Actions an OIDC token when none is given). Exit codes
// are in exit.ts and the README.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { commandGroups } from "./commands/index.ts";
import { processOutput, type Output } from "./context.ts";
import { CliError, EXIT } from "./exit.ts";
import type { CliRuntime } from "./run.ts";

export function buildProgram(runtime: CliRuntime): Command {
  const program = new Command("anonbranch")
    .description("anonymized PostgreSQL branches from the command line (speaks the anonbranch HTTP API)")
    .addOption(new Option("--api-url <url>", "API address, e.g. http://127.0.0.1:8080 (default: $ANONBRANCH_API_URL)"))
    .addOption(new Option("--token <token>", "bearer token (default: $ANONBRANCH_TOKEN; in GitHub Actions an OIDC token)"))
    .addOption(new Option("--oidc-audience <aud>", "audience of the GitHub Actions OIDC token (default: $ANONBRANCH_OIDC_AUDIENCE, else the API URL)"))
    .option("--json", "print results as JSON on stdout (errors too)")
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => runtime.io.out(s.trimEnd()), writeErr: (s) => runtime.io.err(s.trimEnd()) });
  for (const register of commandGroups) register(program, runtime);
  // Usage mistakes anywhere in the tree exit 2 instead of commander's 1.
  const exitOverride = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env, io: Output = processOutput): Promise<number> {
  const runtime: CliRuntime = { env, io, exitCode: EXIT.ok };
  const program = buildProgram(runtime);
  const json = argv.includes("--json");
  try {
    await program.parseAsync(argv, { from: "user" });
    return runtime.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      if (json) io.out(JSON.stringify({ error: { message: error.message, exit_code: error.exitCode, ...error.details } }, null, 2));
      return error.exitCode;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.unavailable;
  }
}

// `tsx src/cli/main.ts …` runs it too (bin/anonbranch.mjs imports runCli instead).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCli(process.argv.slice(2));
}
