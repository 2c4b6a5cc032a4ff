import { createRoute, z } from "@hono/zod-openapi";
import { listEndpoints } from "../../../control/credentials.ts";
import type { Router } from "../../router.ts";
import { BranchParams, EndpointSchema, errorResponses, json } from "../../schemas.ts";
import { endpointExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/endpoints",
  summary: "List a branch's endpoints",
  request: { params: BranchParams },
  responses: { 200: json(z.object({ endpoints: z.array(EndpointSchema) }), "Endpoints", { endpoints: [endpointExample] }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return c.json(await listEndpoints(c.get("services"), c.get("principal"), project_id, branch_id), 200);
  });
