// Named points in the branch jobs where the reliability tests kill the worker
// (SIGKILL) to prove every job resumes. Inert unless ANONBRANCH_CRASH_AT names
// the point; never set it in production.
let armed: string | null = null;

export function armCrashPoint(name: string | undefined): void {
  armed = name || null;
}

export function crashPoint(name: string): void {
  if (armed === name) process.kill(process.pid, "SIGKILL");
}
