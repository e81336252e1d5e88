import { passes } from './lib.js';
import { sections } from './sections/index.js';

/** `npm run bench [name…]`: runs the sections (all, or those named) and prints every figure with its goal. */
const only = process.argv.slice(2);
let failed = 0;
for (const s of sections) {
  if (only.length && !only.includes(s.name)) continue;
  process.stdout.write(`\n## ${s.name}\n`);
  const figures = await s.run();
  for (const f of figures) {
    const ok = passes(f);
    if (ok === false) failed++;
    const value = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(f.value < 10 ? 3 : 1);
    process.stdout.write(`${f.metric.padEnd(58)} ${value.padStart(12)} ${f.unit.padEnd(10)} ${f.goal ? `goal ${f.goal} ${ok ? 'met' : 'NOT met'}` : ''}\n`);
  }
}
process.stdout.write(failed ? `\n${failed} goal(s) not met\n` : '\nall goals met\n');
process.exit(0);
