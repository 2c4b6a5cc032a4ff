// What every command gets: the API client (built from flags or the
// environment), the output mode, and the streams. Configuration is read here
// once, at the CLI's entry, and passed down.
import type { Command } from "commander";
import { ApiClient, apiBase } from "./api-client.ts";
import { CliError, EXIT, usageError } from "./exit.ts";

export interface GlobalOptions {
  apiUrl?: string;
  token?: string;
  oidcAudience?: string;
  json?: boolean;
}

export interface Output {
  /** Results: stdout. */
  out(line: string): void;
  /** Progress and diagnostics: stderr, so stdout stays parseable. */
  err(line: string): void;
  /** Whether stderr is a terminal (a live progress line instead of one line per change). */
  errIsTty: boolean;
}

export interface CliContext {
  env: NodeJS.ProcessEnv;
  io: Output;
  json: boolean;
  api(): ApiClient;
}

export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  errIsTty: Boolean(process.stderr.isTTY),
};

/**
 * A GitHub Actions OIDC token for `audience`, when the job has
 * `permissions: id-token: write` (the runner then sets these two variables).
 */
async function githubOidcToken(env: NodeJS.ProcessEnv, audience: string): Promise<string> {
  const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL!);
  url.searchParams.set("audience", audience);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`, accept: "application/json" },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new CliError(`cannot fetch a GitHub Actions OIDC token: ${error instanceof Error ? error.message : String(error)}`, EXIT.unavailable);
  }
  const body = (await res.json().catch(() => ({}))) as { value?: unknown };
  if (!res.ok || typeof body.value !== "string") {
    throw new CliError(`GitHub Actions refused an OIDC token (HTTP ${res.status}); does the job have permissions: id-token: write?`, EXIT.unavailable);
  }
  return body.value;
}

export function createContext(command: Command, env: NodeJS.ProcessEnv, io: Output): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  let client: ApiClient | undefined;
  let token: Promise<string> | undefined;
  return {
    env,
    io,
    json: Boolean(options.json),
    api() {
      if (client) return client;
      const url = options.apiUrl ?? env.ANONBRANCH_API_URL;
      if (!url) throw usageError("no API URL: set ANONBRANCH_API_URL or pass --api-url (e.g. http://127.0.0.1:8080)");
      const given = options.token ?? env.ANONBRANCH_TOKEN;
      const oidc = env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
      if (!given && !oidc) {
        throw usageError("no token: set ANONBRANCH_TOKEN or pass --token (in GitHub Actions, or grant permissions: id-token: write)");
      }
      const audience = options.oidcAudience ?? env.ANONBRANCH_OIDC_AUDIENCE ?? url;
      client = new ApiClient(apiBase(url), () => (token ??= given ? Promise.resolve(given) : githubOidcToken(env, audience)));
      return client;
    },
  };
}
