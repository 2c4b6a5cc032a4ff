import { createRoute, z } from "@hono/zod-openapi";
import { revokeApiKey } from "../../../control/api-keys.ts";
import type { Router } from "../../router.ts";
import { ApiKeySchema, errorResponses, json } from "../../schemas.ts";

const route = createRoute({
  method: "delete",
  path: "/api_keys/{key_id}",
  summary: "Revoke an API key (admin); refused from its next request on",
  request: {
    params: z.object({ key_id: z.uuid("not an api key id").openapi({ param: { name: "key_id", in: "path" } }) }),
  },
  responses: { 200: json(ApiKeySchema, "Revoked"), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await revokeApiKey(c.get("services"), c.get("principal"), c.req.valid("param").key_id), 200),
  );
