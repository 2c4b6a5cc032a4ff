import { createRoute, z } from "@hono/zod-openapi";
import { createAnonymizedBranch } from "../../../control/branches.ts";
import type { Router } from "../../router.ts";
import { BranchWithResourcesSchema, MaskingRuleSchema, ProjectParams, errorResponses, json, jsonBody } from "../../schemas.ts";
import { branchWithResourcesExample, maskingRulesExample } from "../../examples.ts";

const Body = z.object({
  branch_create: z
    .object({
      branch: z
        .object({
          name: z.string().min(1).max(256).optional(),
          parent_id: z.string().optional(),
          expires_at: z.string().datetime({ offset: true, message: "must be an RFC 3339 timestamp" }).optional(),
          protected: z.boolean().optional(),
        })
        .optional(),
      endpoints: z.array(z.object({ type: z.enum(["read_write", "read_only"]) }).passthrough()).optional(),
    })
    .optional(),
  masking_rules: z.array(MaskingRuleSchema).max(2000).optional(),
  start_anonymization: z.boolean().optional(),
  annotation_value: z.record(z.string(), z.string()).optional(),
});

const route = createRoute({
  method: "post",
  path: "/projects/{project_id}/branch_anonymized",
  summary: "Create an anonymized branch; returns before any copying starts",
  request: { params: ProjectParams, body: jsonBody(Body, {
      branch_create: { branch: { name: "pr-42", expires_at: "2026-05-05T09:30:00Z" } },
      masking_rules: maskingRulesExample,
      start_anonymization: true,
      annotation_value: { pr: "42" },
    }),
  },
  responses: { 201: json(BranchWithResourcesSchema, "Created", branchWithResourcesExample), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id } = c.req.valid("param");
    return c.json(await createAnonymizedBranch(c.get("services"), c.get("principal"), project_id, c.req.valid("json")), 201);
  });
