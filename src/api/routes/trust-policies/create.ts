import { createRoute, z } from "@hono/zod-openapi";
import { createTrustPolicy } from "../../../control/trust-policies.ts";
import type { Router } from "../../router.ts";
import { ProjectParams, TrustPolicySchema, errorResponses, json } from "../../schemas.ts";

const CreateTrustPolicyBody = z.object({
  issuer: z.string().url().optional().openapi({ description: "default: ANONBRANCH_OIDC_ISSUER" }),
  audience: z.string().min(1).max(256),
  repository: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, "must be owner/name, as in the token's repository claim")
    .max(256),
  ref: z.string().regex(/^refs\//, "must be a full ref such as refs/heads/main").max(256).optional(),
  role: z.enum(["developer", "ci"]).default("ci"),
});

const route = createRoute({
  method: "post",
  path: "/projects/{project_id}/trust_policies",
  summary: "Trust GitHub Actions OIDC tokens of a repository (and ref) on this project (admin)",
  request: {
    params: ProjectParams,
    body: { content: { "application/json": { schema: CreateTrustPolicyBody } }, required: true },
  },
  responses: { 201: json(z.object({ trust_policy: TrustPolicySchema }), "Created"), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await createTrustPolicy(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("json")), 201),
  );
