// Every command group of the CLI, in help order. A new group is one file in
// this folder exporting a RegisterCommands function, and one line here.
import type { RegisterCommands } from "../run.ts";
import { registerBranchCommands } from "./branch.ts";
import { registerRulesCommands } from "./rules.ts";
import { registerPreviewCommand } from "./preview.ts";
import { registerStatusCommand } from "./status.ts";

export const commandGroups: RegisterCommands[] = [registerBranchCommands, registerStatusCommand, registerPreviewCommand, registerRulesCommands];
