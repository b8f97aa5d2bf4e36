#!/usr/bin/env node
// Runs only "ours" of one scenario, for profiling:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-ours.js 1|2|3|4 [size]
//   node bench/profile-summary.js /tmp/prof/*.cpuprofile
import { counter } from './lib/measure.js';

const [which, sizeArg] = process.argv.slice(2);
const files = {
  1: '01-spawn-complete.js',
  2: '02-heap-parked.js',
  3: '03-cancel-tree.js',
  4: '04-emit-inbox.js',
};
const mod = await import(`./scenarios/${files[which]}`);
const size = Number(sizeArg ?? 0);
const arg = {
  1: () => [size || 100_000, 1000],
  2: () => [size || 10_000],
  3: () => [{ mids: 100, leaves: size || 10_000 }],
  4: () => [size || 1_000_000, 64],
}[which]();
for (let i = 0; i < 2; i++) console.log(await mod.oursRun(...arg));
void counter;
