#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self and by inclusive
// time (a function's time counted once per sample even when it recurses).
//   node bench/profile-summary.js file.cpuprofile [more.cpuprofile …] [top=25]
// Several profiles (e.g. one per round of bench/profile-cancel.js) are summed.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const top = /^\d+$/.test(argv.at(-1) ?? '') ? Number(argv.pop()) : 25;
const self = new Map();
const incl = new Map();
let total = 0;
const key = (n) => {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\/.*?\/(node_modules|dist|bench)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
};
for (const file of argv) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) {
    const w = dt[i + 1] ?? dt[i] ?? 0;
    total += w;
    let id = prof.samples[i];
    const leaf = byId.get(id);
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + w);
    const seen = new Set();
    while (id !== undefined) {
      const k = key(byId.get(id));
      if (!seen.has(k)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + w);
      }
      id = parent.get(id);
    }
  }
}
const show = (m, title) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    );
  }
};
show(self, 'self time');
show(incl, 'inclusive time');
