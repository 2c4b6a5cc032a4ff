import { createRoute, z } from "@hono/zod-openapi";
import { createApiKey } from "../../../control/api-keys.ts";
import { projectIdPattern } from "../../../lib/ids.ts";
import type { Router } from "../../router.ts";
import { ApiKeySchema, errorResponses, json, jsonBody } from "../../schemas.ts";
import { apiKeyExample, ids } from "../../examples.ts";

const CreateApiKeyBody = z.object({
  name: z.string().min(1).max(256),
  role: z.enum(["admin", "developer", "ci"]),
  project_ids: z.array(z.string().regex(projectIdPattern, "not a project id")).max(1000).optional().openapi({
    description: "required (at least one) for developer and ci keys; left out for admin keys",
  }),
  expires_in_seconds: z
    .number()
    .int()
    .min(1)
    .max(10 * 365 * 24 * 3600)
    .optional(),
});

const route = createRoute({
  method: "post",
  path: "/api_keys",
  summary: "Mint an API key (admin); the token is in this answer only",
  request: {
    body: jsonBody(CreateApiKeyBody, {
      name: "alice-laptop",
      role: "developer",
      project_ids: [ids.project],
      expires_in_seconds: 2592000,
    }),
  },
  responses: {
    201: json(ApiKeySchema.extend({ key: z.string().openapi({ description: "the bearer token; shown once" }) }), "Created",
      { ...apiKeyExample, key: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiZGV2ZWxvcGVyIn0.c2lnbmF0dXJlLW9mLXRoZS1rZXk" },
    ),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) => c.json(await createApiKey(c.get("services"), c.get("principal"), c.req.valid("json")), 201));
