// The --fleet file (client/fleet.ts): the same targets from JSON and from YAML, whose parser
// loads only when a YAML file is read; a file of either kind that does not parse, refused by name.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readFleetFile } from '../../client/fleet';

const dir = mkdtempSync(join(tmpdir(), 'revenant-fleet-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const TARGETS = [
  { host: 'db1.internal', port: 3306, databases: 'shard_%', table: 'orders' },
  { host: 'db2.internal', port: 3307, databases: ['a', 'b'], user: 'migrator' },
];

test('a fleet file gives the same targets as JSON and as YAML', () => {
  const json = file('fleet.json', JSON.stringify({ targets: TARGETS }));
  const yaml = file(
    'fleet.yaml',
    [
      'targets:',
      '  - host: db1.internal',
      '    port: 3306',
      "    databases: 'shard_%'",
      '    table: orders',
      '  - host: db2.internal',
      '    port: 3307',
      '    databases: [a, b]',
      '    user: migrator',
    ].join('\n'),
  );
  assert.deepEqual(readFleetFile(json), TARGETS);
  assert.deepEqual(readFleetFile(yaml), TARGETS);
});

test('a fleet file that does not parse is refused, naming the file and its format', () => {
  assert.throws(() => readFleetFile(file('bad.yml', 'targets: [unclosed')), /bad\.yml is not valid YAML/);
  assert.throws(() => readFleetFile(file('bad.json', '{"targets": [')), /bad\.json is not valid JSON/);
  assert.throws(() => readFleetFile(file('empty.yaml', 'targets: []')), /needs "targets"/);
});
