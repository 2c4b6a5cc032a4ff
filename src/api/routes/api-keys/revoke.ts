import { createRoute, z } from "@hono/zod-openapi";
import { revokeApiKey } from "../../../control/api-keys.ts";
import type { Router } from "../../router.ts";
import { ApiKeySchema, errorResponses, json } from "../../schemas.ts";
import { apiKeyExample, ids } from "../../examples.ts";

const route = createRoute({
  method: "delete",
  path: "/api_keys/{key_id}",
  summary: "Revoke an API key (admin); refused from its next request on",
  request: {
    params: z.object({ key_id: z.uuid("not an api key id").openapi({ param: { name: "key_id", in: "path" }, example: ids.apiKey }) }),
  },
  responses: { 200: json(ApiKeySchema, "Revoked", { ...apiKeyExample, revoked: true, revoked_at: "2026-05-04T10:00:00.000Z" }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await revokeApiKey(c.get("services"), c.get("principal"), c.req.valid("param").key_id), 200),
  );
