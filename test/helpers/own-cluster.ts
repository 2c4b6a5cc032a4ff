// A throwaway PostgreSQL cluster of the test file's own (scripts/pg-cluster.sh),
// for tests that restart the server: restarting the run's shared cluster would
// break whatever other test file uses it meanwhile. Never the machine's own
// PostgreSQL: restart() only touches a data directory this helper created.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

export interface OwnCluster {
  url: string;
  port: number;
  dir: string;
  /**
   * pg_ctl restart -m fast|immediate; resolves once the server accepts
   * connections again. Asynchronous: the test's own clients keep running.
   */
  restart(mode: "fast" | "immediate"): Promise<void>;
  stop(): void;
}

const bash = (script: string, env: Record<string, string> = {}) =>
  execFileSync("bash", ["-c", `set -euo pipefail; . scripts/pg-cluster.sh; ${script}`], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });

export function startOwnCluster(): OwnCluster {
  // synchronous_commit on: an answer the API gave must survive -m immediate, as on a real server.
  const out = bash(`start_cluster; echo "$CLUSTER_DIR|$CLUSTER_PORT|$CLUSTER_URL"`, { CLUSTER_SYNCHRONOUS_COMMIT: "on" })
    .trim()
    .split("\n")
    .at(-1)!;
  const [dir, port, url] = out.split("|") as [string, string, string];
  if (!dir.startsWith("/tmp/anonbranch-pg.") || Number(port) === 5432) throw new Error(`refusing to drive ${dir} on port ${port}`);
  return {
    url,
    port: Number(port),
    dir,
    restart: async (mode) => {
      await promisify(execFile)("bash", ["-c", `set -euo pipefail; . scripts/pg-cluster.sh; restart_cluster ${mode}`], {
        env: { ...process.env, CLUSTER_DIR: dir },
      });
    },
    stop: () => void bash("stop_cluster", { CLUSTER_DIR: dir }),
  };
}
