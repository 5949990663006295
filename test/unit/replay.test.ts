// Every recorded history (test/histories/, made by scripts/record-histories.sh from real
// migrations) replays against the workflow code as it is now. A change of workflow code that
// would break a migration already running (another activity order, a removed timer, a new
// command where the history has none) fails here, before it reaches a worker.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowSource } from '../../worker/worker';
import { FIXTURES } from '../support/paths';

const DIR = join(FIXTURES, 'histories');

test('every recorded migration history replays against the current workflow code', { timeout: 300_000 }, async () => {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.ok(files.length >= 8, `recorded histories: ${files.join(', ')}`);
  const histories = files.map((f) => ({
    workflowId: f,
    history: historyFromJSON(JSON.parse(readFileSync(join(DIR, f), 'utf8'))),
  }));
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories(workflowSource(), histories)) {
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  }
  assert.deepEqual(failures, [], 'histories that no longer replay');
  console.log(`replayed ${files.length} histories: ${files.join(', ')}`);
});
