import { createRoute, z } from "@hono/zod-openapi";
import { setServerBudget } from "../../../control/servers.ts";
import type { Router } from "../../router.ts";
import { serverExample } from "../../examples.ts";
import { ServerSchema, errorResponses, json, jsonBody } from "../../schemas.ts";

const route = createRoute({
  method: "patch",
  path: "/servers/{server_id}",
  summary: "Set a data-plane server's storage budget for branch copies; null removes it (admin)",
  request: {
    params: z.object({ server_id: z.string().min(3).max(300).openapi({ param: { name: "server_id", in: "path" }, example: "db.internal:5432" }) }),
    body: jsonBody(z.object({ server: z.object({ storage_budget_bytes: z.number().int().min(0).nullable() }).strict() }), {
      server: { storage_budget_bytes: 53_687_091_200 },
    }),
  },
  responses: { 200: json(z.object({ server: ServerSchema }), "Updated", { server: serverExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(
      await setServerBudget(c.get("services"), c.get("principal"), c.req.valid("param").server_id, c.req.valid("json").server.storage_budget_bytes),
      200,
    ),
  );
