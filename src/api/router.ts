// Every router shares the validation hook, so a zod failure anywhere becomes
// the same 400 envelope naming the field.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./env.ts";
import { validationError } from "./errors.ts";

export type Router = OpenAPIHono<AppEnv>;

export function newRouter(): Router {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationError(c, result.error);
    },
  });
}
