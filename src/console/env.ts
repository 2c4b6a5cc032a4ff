// Hono environment of the console: the app's variables, plus the session's CSRF token.
import type { AppEnv } from "../api/env.ts";

export interface ConsoleEnv {
  Variables: AppEnv["Variables"] & {
    /** The session's CSRF token, for forms and the client script. */
    csrf: string;
  };
}
