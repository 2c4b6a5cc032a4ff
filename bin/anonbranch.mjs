#!/usr/bin/env node
// Launcher for `npx anonbranch …`: loads TypeScript through tsx (a runtime
// dependency) and runs src/cli/main.ts in this process.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
