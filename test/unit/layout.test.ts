// The house's plan (scripts/check-layout.js, which `npm run lint` runs too): shared vocabulary
// (model/) at the bottom, the engine by concern above it, the Temporal surface (activities/)
// and the orchestration (workflows/) on top, neither importing the other, workflows/ importing
// only model/ and Temporal, and no import cycle. A newcomer's change that breaks the plan fails
// here, in a second.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../checks/server';
import '../../checks/table';
import { serverChecks, tableChecks } from '../../checks/registry';
import { ROOT } from '../support/paths';

interface LayoutCheck {
  ENGINE: string[];
  importGraph(root: string): Map<string, { to: string; typeOnly: boolean }[]>;
  layoutProblems(root: string): { files: number; cycles: string[]; upward: string[]; missing: string[] };
}
const layout: LayoutCheck = require(join(ROOT, 'scripts', 'check-layout.js'));

test('layout: no import cycle among the sources (type-only imports aside)', () => {
  assert.deepEqual(layout.layoutProblems(ROOT).cycles, []);
});

test('layout: every import goes down the layers; workflows/ imports only model/ and Temporal', () => {
  const { files, upward } = layout.layoutProblems(ROOT);
  assert.ok(files > 80, `${files} source files read`);
  assert.deepEqual(upward, []);
  for (const [file, edges] of layout.importGraph(ROOT)) {
    if (!file.startsWith('workflows/')) continue;
    for (const edge of edges) assert.match(edge.to, /^(model|workflows)\//, `${file} imports ${edge.to}`);
  }
});

test('layout: every import names a source that exists', () => {
  assert.deepEqual(layout.layoutProblems(ROOT).missing, []);
});

test('layout: activities/ holds the Temporal surface, one file a phase, and the engine none of it', () => {
  const graph = layout.importGraph(ROOT);
  for (const file of graph.keys()) {
    if (!layout.ENGINE.includes(file.split('/')[0])) continue;
    const text = readFileSync(join(ROOT, `${file}.ts`), 'utf8');
    assert.doesNotMatch(text, /from '@temporalio\/workflow'/, `${file} is engine code: it cannot use workflow APIs`);
  }
  for (const phase of [
    'inspect',
    'prepare',
    'copy',
    'apply',
    'checksum',
    'cutover',
    'cleanup',
    'resurrect',
    'revert',
  ]) {
    assert.ok(graph.has(`activities/${phase}`), `activities/${phase}.ts`);
  }
});

test('layout: the preconditions register themselves, each once, in their order', () => {
  assert.deepEqual(
    serverChecks('reached').map((c) => c.name),
    ['port'],
  );
  assert.deepEqual(
    serverChecks('settings').map((c) => c.name),
    ['log-bin', 'binlog-format', 'binlog-row-image', 'binlog-settings', 'gtid-mode', 'grants'],
  );
  assert.deepEqual(
    tableChecks().map((c) => c.name),
    ['alter', 'foreign-keys', 'triggers', 'table-names'],
  );
});
