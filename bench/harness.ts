// Tiny benchmark helpers: run a baseline and candidates alternately, report
// medians and each candidate's ratio to the baseline measured in this process.
export interface Case {
  name: string;
  run: () => Promise<void>;
}

async function time(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export async function compare(title: string, baseline: Case, candidates: Case[], rounds = 5): Promise<void> {
  const samples = new Map<string, number[]>([[baseline.name, []], ...candidates.map((c) => [c.name, []] as [string, number[]])]);
  await baseline.run(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const c of [baseline, ...candidates]) samples.get(c.name)!.push(await time(c.run));
  }
  const base = median(samples.get(baseline.name)!);
  console.log(`\n${title} (median of ${rounds} rounds)`);
  console.log(`  ${baseline.name.padEnd(48)} ${base.toFixed(1).padStart(9)} ms   1.00x (baseline)`);
  for (const c of candidates) {
    const m = median(samples.get(c.name)!);
    console.log(`  ${c.name.padEnd(48)} ${m.toFixed(1).padStart(9)} ms   ${(m / base).toFixed(2)}x`);
  }
}
