// The house's plan, checked on the sources themselves: shared vocabulary (model/) at the
// bottom, the engine by concern above it, the Temporal surface (activities/) and the
// orchestration (workflows/) on top, neither importing the other, and no import cycle
// anywhere. A newcomer's change that breaks the plan fails here, in a second.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/paths';
import '../../checks/server';
import { serverChecks } from '../../checks/registry';

const ENGINE = ['runtime', 'mysql', 'binlog', 'table', 'control', 'checks'];
const SOURCE_FOLDERS = ['model', ...ENGINE, 'activities', 'workflows', 'worker', 'client'];

interface Edge {
  to: string;
  typeOnly: boolean;
}

function sourcesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourcesUnder(path);
    return name.endsWith('.ts') ? [path.slice(0, -3)] : [];
  });
}

const SOURCES = SOURCE_FOLDERS.flatMap(sourcesUnder);
const IMPORT = /^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)'/gms;

function importsOf(file: string): Edge[] {
  const text = readFileSync(join(ROOT, `${file}.ts`), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const names = m[2].replace(/^\{|\}$/g, '').split(',');
    const everyNameIsAType = /^\{/.test(m[2]) && names.every((n) => !n.trim() || /^type\s/.test(n.trim()));
    const to = normalize(join(dirname(file), m[3]));
    return { to: SOURCES.includes(to) ? to : join(to, 'index'), typeOnly: !!m[1] || everyNameIsAType };
  });
}

const graph = new Map(SOURCES.map((f) => [f, importsOf(f)] as const));
const folderOf = (file: string) => file.split('/')[0];

test('layout: no import cycle among the sources (type-only imports aside)', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    state.set(file, 'open');
    for (const edge of graph.get(file) ?? []) {
      if (edge.typeOnly) continue;
      if (state.get(edge.to) === 'open') cycles.push([...path.slice(path.indexOf(edge.to)), edge.to].join(' → '));
      else if (!state.has(edge.to)) visit(edge.to, [...path, edge.to]);
    }
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
  assert.deepEqual(cycles, []);
});

test('layout: every import goes down the layers', () => {
  const allowed: Record<string, (to: string, typeOnly: boolean) => boolean> = {
    // Deterministic, pure: the workflow bundle holds it.
    model: (to) => to === 'model',
    // The workflow names its activities' types (proxyActivities), and nothing else of theirs.
    workflows: (to, typeOnly) => to === 'model' || to === 'workflows' || (typeOnly && to === 'activities'),
    activities: (to) => to !== 'workflows' && to !== 'worker' && to !== 'client',
    worker: (to) => to !== 'client',
    client: () => true,
  };
  for (const folder of ENGINE) allowed[folder] = (to) => to === 'model' || ENGINE.includes(to);
  const wrong: string[] = [];
  for (const [file, edges] of graph) {
    for (const edge of edges) {
      const ok = allowed[folderOf(file)](folderOf(edge.to), edge.typeOnly);
      if (!ok) wrong.push(`${file} imports ${edge.to}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('layout: every import names a source that exists', () => {
  const missing = [...graph].flatMap(([file, edges]) =>
    edges.filter((e) => !graph.has(e.to)).map((e) => `${file} imports ${relative('.', e.to)}`),
  );
  assert.deepEqual(missing, []);
});

test('layout: activities/ holds the Temporal surface, one file a phase, and the engine none of it', () => {
  for (const folder of ENGINE) {
    for (const file of sourcesUnder(folder)) {
      const text = readFileSync(join(ROOT, `${file}.ts`), 'utf8');
      assert.doesNotMatch(text, /from '@temporalio\/workflow'/, `${file} is engine code: it cannot use workflow APIs`);
    }
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

test('layout: the server preconditions register themselves, each once, in their order', () => {
  assert.deepEqual(
    serverChecks('reached').map((c) => c.name),
    ['port'],
  );
  assert.deepEqual(
    serverChecks('settings').map((c) => c.name),
    ['log-bin', 'binlog-format', 'binlog-row-image', 'binlog-settings', 'gtid-mode', 'grants'],
  );
});
