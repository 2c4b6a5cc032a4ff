// The create-latency client of api-throughput.bench.ts, in a process of its own
// as a CI job's client is (in the API's process, the client's own work would be
// served by the same event loop and counted as the API's latency). Sends N
// creates in a row and prints, as JSON, each one's latency, start time and
// branch id.
//   burst: each create right after the previous one answered, so the worker's
//          queue of clones grows for the whole run;
//   paced: after each create, waits (not timed) until the worker has cloned
//          that branch, so that a create never overlaps the clones of the ones
//          before it: what is measured is the call, against whatever else the
//          server is doing.
const [base, projectId, key, label, count, mode = "burst"] = process.argv.slice(2);
if (!base || !projectId || !key || !label || !count || !["burst", "paced"].includes(mode)) {
  throw new Error("usage: create-client.ts <base> <project_id> <key> <label> <n> [burst|paced]");
}
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };

const latencies: number[] = [];
const startedAt: number[] = [];
const ids: string[] = [];
for (let i = 0; i < Number(count); i++) {
  startedAt.push(Date.now());
  const t = performance.now();
  const res = await fetch(`${base}/api/v2/projects/${projectId}/branch_anonymized`, {
    method: "POST",
    headers,
    body: JSON.stringify({ branch_create: { branch: { name: `bench-${label}-${i}` } } }),
  });
  const body = (await res.json()) as { branch?: { id: string } };
  latencies.push(performance.now() - t);
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(body)}`);
  const id = body.branch!.id;
  ids.push(id);
  if (mode === "paced") {
    for (;;) {
      const s = await fetch(`${base}/api/v2/projects/${projectId}/branches/${id}/anonymized_status`, { headers });
      const { state } = (await s.json()) as { state: string };
      if (state !== "created") break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
console.log(JSON.stringify({ latencies, startedAt, ids }));
