import { createRoute, z } from "@hono/zod-openapi";
import { deleteTrustPolicy } from "../../../control/trust-policies.ts";
import type { Router } from "../../router.ts";
import { ProjectParams, TrustPolicySchema, errorResponses, json } from "../../schemas.ts";
import { ids, trustPolicyExample } from "../../examples.ts";

const route = createRoute({
  method: "delete",
  path: "/projects/{project_id}/trust_policies/{policy_id}",
  summary: "Delete an OIDC trust policy (admin); its tokens are refused from the next request on",
  request: {
    params: ProjectParams.extend({
      policy_id: z.uuid("not a trust policy id").openapi({ param: { name: "policy_id", in: "path" }, example: ids.trustPolicy }),
    }),
  },
  responses: { 200: json(z.object({ trust_policy: TrustPolicySchema }), "Deleted", { trust_policy: trustPolicyExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, policy_id } = c.req.valid("param");
    return c.json(await deleteTrustPolicy(c.get("services"), c.get("principal"), project_id, policy_id), 200);
  });
