// Updates sent again only when the server refused them for a failed workflow task
// (client/updates.ts): the refusal as the SDK reports it, wrapped or not; any other error is
// the answer at once; the tries end after five.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reasonOf, refusedForTaskFailure, sendUpdate } from '../../client/updates';

const taskFailure = () =>
  Object.assign(
    new Error(
      '9 FAILED_PRECONDITION: Unable to perform workflow execution update due to unexpected workflow task failure.',
    ),
    { code: 9 },
  );

test('the refusal for a failed workflow task is told apart, as it is or as a cause', () => {
  assert.ok(refusedForTaskFailure(taskFailure()));
  assert.ok(refusedForTaskFailure(new Error('update failed', { cause: taskFailure() })));
  assert.ok(!refusedForTaskFailure(new Error('workflow execution already completed')));
  assert.ok(!refusedForTaskFailure(new Error('chunk-size: a number from 10 to 100000')));
  assert.ok(!refusedForTaskFailure(undefined));
});

test('an update refused for a failed workflow task is sent again; any other refusal is the answer', async () => {
  let sent = 0;
  const answer = await sendUpdate(async () => {
    sent++;
    if (sent < 3) throw taskFailure();
    return 'aborting';
  }, 1);
  assert.equal(answer, 'aborting');
  assert.equal(sent, 3);

  sent = 0;
  const refused = new Error('revert: no revert window is open');
  await assert.rejects(
    sendUpdate(async () => {
      sent++;
      throw refused;
    }, 1),
    refused,
  );
  assert.equal(sent, 1, 'a refusal of the update itself is not retried');

  sent = 0;
  await assert.rejects(
    sendUpdate(async () => {
      sent++;
      throw taskFailure();
    }, 1),
    /unexpected workflow task failure/,
  );
  assert.equal(sent, 5, 'five tries, then the refusal');
});

test("a refusal's reason is its cause's message (the workflow's words), else the error's own", () => {
  const refused = Object.assign(new Error('Workflow Update failed'), {
    cause: new Error('chunk-size must be 10 to 100000'),
  });
  assert.equal(reasonOf(refused), 'chunk-size must be 10 to 100000');
  assert.equal(reasonOf(new Error('connection refused')), 'connection refused');
});
