import { createRoute, z } from "@hono/zod-openapi";
import { createProject } from "../../../control/projects.ts";
import type { Router } from "../../router.ts";
import { BranchSchema, DatabaseSchema, EndpointSchema, OperationSchema, ProjectSchema, RoleSchema, errorResponses, json, jsonBody } from "../../schemas.ts";
import { projectCreatedExample } from "../../examples.ts";

const CreateProjectBody = z.object({
  project: z.object({
    name: z.string().min(1).max(256),
    source: z.object({
      connection_uri: z
        .string()
        .refine((s) => /^postgres(ql)?:\/\//.test(s) && URL.canParse(s), "must be a postgresql:// connection URI"),
      databases: z.array(z.string().min(1).max(63)).min(1, "name at least one parent database"),
    }),
  }),
});

const route = createRoute({
  method: "post",
  path: "/projects",
  summary: "Register a data-plane server and its parent databases (admin)",
  request: {
    body: jsonBody(CreateProjectBody, {
      project: { name: "shop", source: { connection_uri: "postgresql://postgres@db.internal:5432/postgres", databases: ["shop"] } },
    }),
  },
  responses: {
    201: json(
      z.object({
        project: ProjectSchema,
        branch: BranchSchema,
        databases: z.array(DatabaseSchema),
        roles: z.array(RoleSchema),
        endpoints: z.array(EndpointSchema),
        operations: z.array(OperationSchema),
      }),
      "Registered",
      projectCreatedExample,
    ),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    return c.json(await createProject(c.get("services"), c.get("principal"), body.project), 201);
  });
