// Branch lookups shared by commands: a branch is named by id or by name.
import type { ApiClient } from "./api-client.ts";
import { CliError, EXIT } from "./exit.ts";

const BRANCH_ID = /^br-[a-z]+-[a-z]+-\d{6}$/;

export interface BranchRef {
  id: string;
  name: string;
}

/** The branch called `ref` (an id, or a name looked up among the project's branches). */
export async function resolveBranch(api: ApiClient, project: string, ref: string): Promise<BranchRef> {
  if (BRANCH_ID.test(ref)) {
    const { branch } = await api.request<{ branch: BranchRef }>("GET", `/projects/${encodeURIComponent(project)}/branches/${ref}`);
    return { id: branch.id, name: branch.name };
  }
  const { branches } = await api.request<{ branches: BranchRef[] }>(
    "GET",
    `/projects/${encodeURIComponent(project)}/branches?search=${encodeURIComponent(ref)}&limit=10000`,
  );
  const match = branches.find((b) => b.name === ref);
  if (!match) throw new CliError(`no branch named "${ref}" in project ${project}`, EXIT.refused, { status: 404, code: "NOT_FOUND" });
  return { id: match.id, name: match.name };
}

export const branchPath = (project: string, branchId: string): string =>
  `/projects/${encodeURIComponent(project)}/branches/${encodeURIComponent(branchId)}`;
