// Renders bench/RESULTS.md again from the RESULTS.json beside it, keeping the run's own
// header (its command, machine and versions): for a change to how the report reads or judges
// the figures, without a new hour-long run. It says so under the header.
//   node dist/bench/rerender.js [bench/RESULTS.md]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeResults, type ServerResult } from './report';
import { ROOT } from './server';

const out = process.argv[2] ?? join(ROOT, 'bench', 'RESULTS.md');
const old = readFileSync(out, 'utf8').split('\n');
const header = old.slice(
  old.findIndex((l) => l.startsWith('Command:')),
  old.indexOf('## Targets'),
);
if (!header.length || !header[0].startsWith('Command:'))
  throw new Error(`${out} has no Command line above its targets`);
const results = JSON.parse(readFileSync(out.replace(/\.md$/, '.json'), 'utf8')) as ServerResult[];
const head = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const note = `Rendered again from its JSON by the report of revenant ${head}, ${new Date().toISOString().slice(0, 10)}: the figures are the run's.`;
const kept = header.filter((l) => !l.startsWith('Rendered again from its JSON'));
writeResults(out, '', results, 0, '', [...kept.slice(0, -1), note, '']);
