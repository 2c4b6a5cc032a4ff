import { createRoute, z } from "@hono/zod-openapi";
import { listApiKeys } from "../../../control/api-keys.ts";
import type { Router } from "../../router.ts";
import { ApiKeySchema, errorResponses, json } from "../../schemas.ts";
import { apiKeyExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/api_keys",
  summary: "List API keys, revoked ones included (admin); never returns tokens",
  responses: { 200: json(z.object({ api_keys: z.array(ApiKeySchema) }), "Keys", { api_keys: [apiKeyExample] }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => c.json(await listApiKeys(c.get("services"), c.get("principal")), 200));
