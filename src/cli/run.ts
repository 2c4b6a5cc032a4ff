// Glue between commander and the commands: each command's action gets a
// CliContext and returns its exit code; errors become exit codes in main.ts.
import type { Command } from "commander";
import { createContext, type CliContext, type Output } from "./context.ts";
import type { ExitCode } from "./exit.ts";

export interface CliRuntime {
  env: NodeJS.ProcessEnv;
  io: Output;
  exitCode: ExitCode;
}

/** A command group: adds its commands to the program. One file per group under src/cli/commands/. */
export type RegisterCommands = (program: Command, runtime: CliRuntime) => void;

export function action<O>(runtime: CliRuntime, fn: (ctx: CliContext, options: O, command: Command) => Promise<ExitCode | void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args.at(-1) as Command;
    const ctx = createContext(command, runtime.env, runtime.io);
    runtime.exitCode = (await fn(ctx, command.opts() as O, command)) ?? 0;
  };
}

/** Prints `value` as JSON (with --json) or the human lines. */
export function print(ctx: CliContext, value: unknown, human: () => string[]): void {
  if (ctx.json) ctx.io.out(JSON.stringify(value, null, 2));
  else for (const line of human()) ctx.io.out(line);
}
