// All /api/v2 routes, grouped by resource.
import { newRouter, type Router } from "../router.ts";
import createApiKey from "./api-keys/create.ts";
import listApiKeys from "./api-keys/list.ts";
import revokeApiKey from "./api-keys/revoke.ts";
import startAnonymization from "./anonymization/start.ts";
import anonymizedStatus from "./anonymization/status.ts";
import createAnonymizedBranch from "./branches/create-anonymized.ts";
import getDatabase from "./branches/database.ts";
import listDatabases from "./branches/databases.ts";
import deleteBranch from "./branches/delete.ts";
import listEndpoints from "./branches/endpoints.ts";
import getBranch from "./branches/get.ts";
import listBranches from "./branches/list.ts";
import previewMaskedRows from "./branches/preview.ts";
import resetToParent from "./branches/reset-to-parent.ts";
import revealPassword from "./branches/reveal-password.ts";
import getRole from "./branches/role.ts";
import listRoles from "./branches/roles.ts";
import updateBranch from "./branches/update.ts";
import auditLog from "./audit-log.ts";
import getProjectMaskingRules from "./project-rules/get.ts";
import updateProjectMaskingRules from "./project-rules/update.ts";
import validateProjectMaskingRules from "./project-rules/validate.ts";
import getNotSensitiveColumns from "./not-sensitive-columns/get.ts";
import updateNotSensitiveColumns from "./not-sensitive-columns/update.ts";
import sensitiveColumns from "./sensitive-columns.ts";
import connectionUri from "./connection-uri.ts";
import getMaskingRules from "./masking-rules/get.ts";
import updateMaskingRules from "./masking-rules/update.ts";
import validateBranchMaskingRules from "./masking-rules/validate.ts";
import getOperation from "./operation.ts";
import createProject from "./projects/create.ts";
import deleteProject from "./projects/delete.ts";
import getProject from "./projects/get.ts";
import listProjects from "./projects/list.ts";
import updateProject from "./projects/update.ts";
import listServers from "./servers/list.ts";
import updateServer from "./servers/update.ts";
import createTrustPolicy from "./trust-policies/create.ts";
import deleteTrustPolicy from "./trust-policies/delete.ts";
import listTrustPolicies from "./trust-policies/list.ts";

const groups: ((app: Router) => unknown)[][] = [
  [createProject, listProjects, getProject, updateProject, deleteProject, connectionUri, getOperation, auditLog],
  [listServers, updateServer],
  [getProjectMaskingRules, updateProjectMaskingRules, sensitiveColumns],
  [validateProjectMaskingRules, getNotSensitiveColumns, updateNotSensitiveColumns],
  [createAnonymizedBranch, listBranches, getBranch, updateBranch, deleteBranch, resetToParent],
  [listEndpoints, listDatabases, getDatabase, listRoles, getRole, revealPassword],
  [getMaskingRules, updateMaskingRules, validateBranchMaskingRules, startAnonymization, anonymizedStatus, previewMaskedRows],
  [createApiKey, listApiKeys, revokeApiKey, createTrustPolicy, listTrustPolicies, deleteTrustPolicy],
];

export function apiRoutes(): Router {
  const router = newRouter();
  for (const group of groups) for (const register of group) register(router);
  return router;
}
