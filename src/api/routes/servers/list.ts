import { createRoute, z } from "@hono/zod-openapi";
import { listServers } from "../../../control/servers.ts";
import type { Router } from "../../router.ts";
import { serverExample } from "../../examples.ts";
import { ServerSchema, errorResponses, json } from "../../schemas.ts";

const route = createRoute({
  method: "get",
  path: "/servers",
  summary: "Data-plane servers: storage budget and what branch copies use of it (admin)",
  responses: { 200: json(z.object({ servers: z.array(ServerSchema) }), "Servers", { servers: [serverExample] }), ...errorResponses },
});

export default (app: Router) => app.openapi(route, async (c) => c.json(await listServers(c.get("services"), c.get("principal")), 200));
