import { createRoute, z } from "@hono/zod-openapi";
import { listTrustPolicies } from "../../../control/trust-policies.ts";
import type { Router } from "../../router.ts";
import { ProjectParams, TrustPolicySchema, errorResponses, json } from "../../schemas.ts";
import { trustPolicyExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/trust_policies",
  summary: "List the project's OIDC trust policies (admin)",
  request: { params: ProjectParams },
  responses: { 200: json(z.object({ trust_policies: z.array(TrustPolicySchema) }), "Policies", { trust_policies: [trustPolicyExample] }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await listTrustPolicies(c.get("services"), c.get("principal"), c.req.valid("param").project_id), 200),
  );
