// Temporal Web as an operator sees it: headless Chromium (Debian's chromium-headless-shell)
// opens a running migration's pages in the dev server's Web UI and finds what gh-ost users
// look for: the table and its ALTER (the workflow's summary), gh-ost's status line (its
// current details), and each activity's summary in the event history. The UI does not depend
// on the database server: run once, on the MariaDB pass.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  createTestTable,
  freshDatabase,
  MYSQL_PORT,
  ONE_SERVER,
  runCommand,
  runRevenant,
  startTemporal,
  TEMPORAL_ADDRESS,
  waitForPhase,
  type TestTemporal,
  migrateArgs,
} from '../support/helpers';
import { migrationWorkflowId } from '../../model/types';
import { cutOverSignal } from '../../model/messages';

const skip = ONE_SERVER;
const UI = `http://127.0.0.1:${Number(TEMPORAL_ADDRESS.split(':')[1]) + 1000}`;

let temporal: TestTemporal;
before(async () => {
  if (!skip) temporal = await startTemporal('test-web');
});
after(async () => {
  await temporal?.close();
});

/** The page's visible text (its frames' too) once it contains `needle`, or after the timeout. */
async function pageText(url: string, needle: string): Promise<{ found: boolean; text: string }> {
  const r = await runCommand('node', [
    '--experimental-websocket',
    join(__dirname, '..', 'support', 'browser.js'),
    url,
    needle,
    '60000',
  ]);
  assert.equal(r.code, 0, `headless Chromium: ${r.out}`);
  const page = JSON.parse(r.out.trim().split('\n').pop()!) as { found: boolean; text: string };
  // The UI renders markdown with typographic marks: a fraction slash, curly quotes.
  return { ...page, text: page.text.replace(/\u2044/g, '/').replace(/[\u201c\u201d]/g, '"') };
}

test('Temporal Web shows the table and ALTER, the live status line, and what each activity does', {
  skip,
  timeout: 300_000,
}, async () => {
  const db = 'rv_web';
  await freshDatabase(db);
  await createTestTable(db, 't', 20_000);
  const alter = 'ADD COLUMN w INT NOT NULL DEFAULT 1';
  const r = await runRevenant(
    [
      ...migrateArgs(db, 't', alter),
      '--allow-on-master',
      '--execute',
      '--postpone-cut-over',
      '--exact-rowcount',
      '--detach',
    ],
    'test-web',
  );
  assert.equal(r.code, 0, r.out);
  const id = migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, db, 't');
  const handle = temporal.client.workflow.getHandle(id);
  await waitForPhase(handle, ['postponed']);
  const { runId } = await handle.describe();
  const page = `${UI}/namespaces/default/workflows/${encodeURIComponent(id)}/${runId}`;

  const meta = await pageText(`${page}/user-metadata`, 'State: postponed');
  assert.ok(meta.found, `the status line on the page: ${meta.text.slice(-1500)}`);
  // --exact-rowcount, counted while the copy ran: the estimate is the table's rows.
  assert.match(meta.text, /Copy: 20000\/20000 100\.0%; Applied: \d+; .*State: postponed \(cut-over postponed\)/);
  assert.ok(meta.text.includes(`${db}.t: ${alter}`), 'the summary names the table and its ALTER');

  const history = await pageText(`${page}/history`, 'copy: rows from the original');
  assert.ok(history.found, `the copy's summary in the history: ${history.text.slice(-1500)}`);
  assert.match(history.text, /prepare: create and alter the ghost table/);

  await handle.signal(cutOverSignal);
  await handle.result();
});
