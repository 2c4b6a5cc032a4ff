import { createRoute, z } from "@hono/zod-openapi";
import { createTrustPolicy } from "../../../control/trust-policies.ts";
import type { Router } from "../../router.ts";
import { ProjectParams, TrustPolicySchema, errorResponses, json, jsonBody } from "../../schemas.ts";
import { trustPolicyExample } from "../../examples.ts";

const CreateTrustPolicyBody = z.object({
  issuer: z.string().url().optional().openapi({ description: "default: ANONBRANCH_OIDC_ISSUER" }),
  audience: z.string().min(1).max(256),
  repository: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, "must be owner/name, as in the token's repository claim")
    .max(256),
  ref: z.string().regex(/^refs\//, "must be a full ref such as refs/heads/main").max(256).optional(),
  repository_id: z
    .string()
    .regex(/^\d{1,20}$/, "must be the repository's numeric id (the token's repository_id claim)")
    .optional()
    .openapi({ description: "pin the immutable repository id: a re-created repository with the same name is refused" }),
  repository_owner_id: z
    .string()
    .regex(/^\d{1,20}$/, "must be the owner's numeric id (the token's repository_owner_id claim)")
    .optional(),
  environment: z.string().min(1).max(256).optional().openapi({ description: "exact match on the token's environment claim" }),
  job_workflow_ref: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .openapi({ description: "exact match on job_workflow_ref, e.g. acme/shop/.github/workflows/ci.yml@refs/heads/main" }),
  role: z.enum(["developer", "ci"]).default("ci"),
});

const route = createRoute({
  method: "post",
  path: "/projects/{project_id}/trust_policies",
  summary: "Trust GitHub Actions OIDC tokens of a repository (and ref) on this project (admin)",
  request: {
    params: ProjectParams,
    body: jsonBody(CreateTrustPolicyBody, {
      audience: "https://anonbranch.example.com",
      repository: "acme/shop",
      ref: "refs/heads/main",
      role: "ci",
    }),
  },
  responses: { 201: json(z.object({ trust_policy: TrustPolicySchema }), "Created", { trust_policy: { ...trustPolicyExample, ref: "refs/heads/main" } }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await createTrustPolicy(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("json")), 201),
  );
