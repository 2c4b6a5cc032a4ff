import { createRoute, z } from "@hono/zod-openapi";
import { listAuditLog } from "../../control/audit.ts";
import type { Router } from "../router.ts";
import { ProjectParams, errorResponses, json } from "../schemas.ts";
import { ids, maskingRulesExample } from "../examples.ts";

const AuditEventSchema = z
  .object({
    id: z.number(),
    time: z.string(),
    actor: z.object({ id: z.string(), name: z.string(), role: z.string() }),
    action: z.string(),
    project_id: z.string().optional(),
    branch_id: z.string().optional(),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    request_id: z.string().optional(),
  })
  .openapi("AuditEvent");

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/audit_log",
  summary: "Who did what, when, to which branch (admin), newest first",
  request: {
    params: ProjectParams,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      cursor: z.coerce.number().int().min(1).optional(),
    }),
  },
  responses: {
    200: json(z.object({ events: z.array(AuditEventSchema), pagination: z.object({ cursor: z.string() }).optional() }), "Events", {
      events: [
        {
          id: 2,
          time: "2026-05-04T09:30:00.000Z",
          actor: { id: "admin", name: "admin", role: "admin" },
          action: "branch.create",
          project_id: ids.project,
          branch_id: ids.branch,
          after: { name: "pr-42", parent_id: ids.mainBranch, masking_rules: maskingRulesExample, start_anonymization: true },
          request_id: ids.requestId,
        },
      ],
      pagination: { cursor: "2" },
    }),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await listAuditLog(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("query")), 200),
  );
