// Pure unit tests: SQL builders, ALTER reading, binlog-event-to-DML mapping, gh-ost flags.
import { applyTarget } from '../support/apply-target';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addedColumns,
  columnRenames,
  droppedColumns,
  recreatedColumns,
  normalizeAlter,
  renamesTable,
  splitClauses,
} from '../../table/alter-clauses';
import { decodeKey, encodeKey } from '../../table/keys';
import {
  appendDml,
  changeToDml,
  changeToStatements,
  dmlToStatements,
  lastChangePerKey,
  type ApplyTarget,
  type GhostDml,
} from '../../binlog/row-events';
import * as sql from '../../mysql/statements';
import { migrateRequest, parseFlags, UsageError } from '../../client/flags';
import { inputDifferences } from '../../client/cli';
import { ddlTouchesTable } from '../../activities/apply';
import { heartbeatMillis } from '../../control/changelog';
import { throttleChangeIsUrgent } from '../../control/live-settings';
import { ghostTriggerName } from '../../table/ghost-triggers';
import { isGenerated } from '../../table/plan';
import { safeSqlMode } from '../../mysql/flavor';
import {
  atLeast,
  binlogStatus,
  detectFlavor,
  gtidModeProblem,
  parseMariadbGtidPos,
  replicaLogsUpdates,
  replicaStatusQuery,
  stopReplica,
  usesGtids,
} from '../../mysql/flavor';
import { connectFailure } from '../../mysql/connection';
import { refusedStatementFailure, retryDelay } from '../../mysql/errors';
import {
  ChunkWindow,
  MAX_ADAPTIVE_CHUNK,
  chunkEndByArithmetic,
  denseIntegerKey,
  nextChunkSize,
} from '../../table/chunks';
import { validateChange } from '../../model/settings';
import { INPUT_FIELDS } from '../../model/migration-input';
import { checkedReport, checkedReports } from '../../model/progress-report';
import { DEFAULTS, migrationWorkflowId } from '../../model/types';
import { deferrableIndexes, plainIndexName } from '../../table/indexes';
import { policyFromEnvironment } from '../../runtime/worker-policy';
import { reasonLabel } from '../../runtime/metrics';
import { comparableColumns, hashedAsTheyAre, oneTextCollation } from '../../activities/checksum';
import { lagWorthTelling } from '../../activities/apply';
import { credentialsFromEnvironment } from '../../mysql/credentials';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellWords, splitSqlScript } from '../support/localtests';
import { windowPlan, tableHas } from '../../model/revert-window';
import { renameProbeTable } from '../../activities/cutover';
import { sleep } from '../../runtime/sleep';
import { logLine, noticeOf, workerLogFile } from '../../client/worker-log';
import { MIN_WINDOW_MS, ProgressBatcher } from '../../worker/progress-batcher';
import type { ProgressReport } from '../../model/types';
import { getEventListeners } from 'node:events';
import { decimalText, decodeBinaryJson, doubleText, jsonValueSql, UnrepresentableJson } from '../../binlog/mysql-json';

test('escapeId doubles backquotes and refuses empty names', () => {
  assert.equal(sql.escapeId('a`b'), '`a``b`');
  assert.equal(sql.qualified('d', 't'), '`d`.`t`');
  assert.throws(() => sql.escapeId(''), /empty SQL identifier/);
});

test('composite key comparisons expand to index-friendly OR-of-AND', () => {
  const gt = sql.keyComparison(['a', 'b', 'c'], '>', [1, 2, 3]);
  assert.equal(gt.sql, '(`a` > ? OR (`a` = ? AND `b` > ?) OR (`a` = ? AND `b` = ? AND `c` > ?))');
  assert.deepEqual(gt.params, [1, 1, 2, 1, 2, 3]);
  const le = sql.keyComparison(['a', 'b'], '<=', [1, 2]);
  assert.equal(le.sql, '(`a` < ? OR (`a` = ? AND `b` <= ?))');
  assert.equal(sql.keyComparison(['id'], '>=', [5]).sql, '(`id` >= ?)');
});

test('chunk boundary and copy statements', () => {
  const key = { name: 'PRIMARY', columns: ['id'] };
  const end = sql.chunkEnd('d', 't', key, [10], false, [99], 1000);
  assert.match(
    end.sql,
    /FORCE INDEX \(`PRIMARY`\)\s+WHERE \(`id` > \?\) AND \(`id` <= \?\)\s+ORDER BY `id` LIMIT 1 OFFSET 999/,
  );
  const copy = sql.copyChunk(
    'd',
    't',
    '_t_gho',
    key,
    [
      { source: 'id', ghost: 'id' },
      { source: 'old', ghost: 'new' },
    ],
    [1],
    true,
    [50],
  );
  assert.match(
    copy.sql,
    /^INSERT IGNORE INTO `d`\.`_t_gho` \(`id`, `new`\)\s+SELECT `id`, `old` FROM `d`\.`t` FORCE INDEX \(`PRIMARY`\)\s+WHERE \(`id` >= \?\) AND \(`id` <= \?\) LOCK IN SHARE MODE$/,
  );
  assert.deepEqual(copy.params, [1, 50]);
});

test('ALTER reading: prefix, clauses, renames, RENAME TO, drops', () => {
  assert.equal(normalizeAlter('ALTER TABLE `db`.`t` ADD COLUMN x INT;'), 'ADD COLUMN x INT');
  assert.deepEqual(splitClauses("ADD COLUMN a ENUM('x,y','z'), ADD INDEX (a, b), COMMENT 'a,b'"), [
    "ADD COLUMN a ENUM('x,y','z')",
    'ADD INDEX (a, b)',
    "COMMENT 'a,b'",
  ]);
  assert.deepEqual(
    [...columnRenames(splitClauses('CHANGE COLUMN `a` `b` INT, CHANGE c C INT, RENAME COLUMN d TO e, CHANGE f f INT'))],
    [
      ['a', 'b'],
      ['d', 'e'],
    ],
  );
  assert.ok(renamesTable(['RENAME TO t2']));
  assert.ok(renamesTable(['RENAME AS t2']));
  assert.ok(renamesTable(['RENAME t2']));
  assert.ok(!renamesTable(['RENAME COLUMN a TO b', 'RENAME INDEX i TO j']));
  assert.deepEqual(
    droppedColumns(splitClauses('DROP COLUMN a, DROP b, DROP INDEX i, DROP PRIMARY KEY, DROP FOREIGN KEY f')),
    ['a', 'b'],
  );
  assert.deepEqual(
    addedColumns(
      splitClauses('ADD COLUMN a INT, ADD `b c` INT, ADD (d INT, e TEXT), ADD INDEX i (a), ADD UNIQUE KEY u (a)'),
    ),
    ['a', 'b c', 'd', 'e'],
  );
  assert.deepEqual(
    [...recreatedColumns(splitClauses('drop column c1, add column c1 int not null default 47, add c2 int, drop c3'))],
    ['c1'],
  );
  assert.deepEqual([...recreatedColumns(splitClauses('ADD COLUMN x INT'))], []);
});

test('key values survive JSON: bytes stay bytes, integers come back as BigInt', () => {
  const key = { name: 'k', columns: ['a', 'b', 'c'], integer: [true, false, false] };
  const enc = encodeKey(['18446744073709551615', Buffer.from([0, 255]), 'x']);
  const dec = decodeKey(key, JSON.parse(JSON.stringify(enc)));
  assert.equal(dec[0], 18446744073709551615n);
  assert.deepEqual(dec[1], Buffer.from([0, 255]));
  assert.equal(dec[2], 'x');
});

const target: ApplyTarget = applyTarget('w');
const text = (s: sql.Statement[]) => s.map(sql.formatStatement);

test('binlog rows map to ghost DML from the row images', () => {
  assert.deepEqual(
    text(
      changeToStatements(
        {
          kind: 'insert',
          rows: [
            { id: 1, v: 'a', dropped: 9 },
            { id: 2, v: null },
          ],
        },
        target,
      ),
    ),
    ["REPLACE INTO `d`.`_t_gho` (`id`, `w`) VALUES (1, 'a'), (2, NULL)"],
  );
  assert.deepEqual(
    text(
      changeToStatements({ kind: 'update', rows: [{ before: { id: 1, v: 'a' }, after: { id: 1, v: 'b' } }] }, target),
    ),
    ["REPLACE INTO `d`.`_t_gho` (`id`, `w`) VALUES (1, 'b')"],
  );
  assert.deepEqual(
    text(
      changeToStatements({ kind: 'update', rows: [{ before: { id: 1, v: 'a' }, after: { id: 7, v: 'a' } }] }, target),
    ),
    ['DELETE FROM `d`.`_t_gho` WHERE `id` IN (1)', "REPLACE INTO `d`.`_t_gho` (`id`, `w`) VALUES (7, 'a')"],
  );
  assert.deepEqual(
    text(
      changeToStatements(
        {
          kind: 'delete',
          rows: [
            { id: 3, v: 'x' },
            { id: 4, v: 'y' },
          ],
        },
        target,
      ),
    ),
    ['DELETE FROM `d`.`_t_gho` WHERE `id` IN (3, 4)'],
  );
  assert.throws(
    () => changeToStatements({ kind: 'insert', rows: [{ id: 1 }] }, target),
    /no column v: is binlog_row_image FULL/,
  );
});

test('consecutive ghost changes merge into multi-row statements, in order', () => {
  const list: GhostDml[] = [];
  appendDml(
    list,
    changeToDml(
      {
        kind: 'update',
        rows: [
          { before: { id: 1, v: 'a' }, after: { id: 1, v: 'b' } },
          { before: { id: 2, v: 'a' }, after: { id: 2, v: 'c' } },
        ],
      },
      target,
    ),
  );
  appendDml(list, changeToDml({ kind: 'insert', rows: [{ id: 1, v: 'd' }] }, target));
  appendDml(list, changeToDml({ kind: 'delete', rows: [{ id: 5, v: 'x' }] }, target));
  appendDml(list, changeToDml({ kind: 'delete', rows: [{ id: 6, v: 'x' }] }, target));
  appendDml(list, changeToDml({ kind: 'insert', rows: [{ id: 5, v: 'e' }] }, target));
  assert.deepEqual(text(dmlToStatements(list, target)), [
    "REPLACE INTO `d`.`_t_gho` (`id`, `w`) VALUES (1, 'b'), (2, 'c'), (1, 'd')",
    'DELETE FROM `d`.`_t_gho` WHERE `id` IN (5, 6)',
    "REPLACE INTO `d`.`_t_gho` (`id`, `w`) VALUES (5, 'e')",
  ]);
  const composite = { ...target, key: { name: 'PRIMARY', columns: ['id', 'v'], integer: [true, false] } };
  assert.deepEqual(
    text(
      changeToStatements(
        {
          kind: 'delete',
          rows: [
            { id: 1, v: 'a' },
            { id: 2, v: 'b' },
          ],
        },
        composite,
      ),
    ),
    ["DELETE FROM `d`.`_t_gho` WHERE (`id` = 1 AND `w` = 'a') OR (`id` = 2 AND `w` = 'b')"],
  );
});

test("gh-ost's flags parse into a migration without secrets", () => {
  const req = migrateRequest(
    parseFlags([
      '-host',
      'db1',
      '--port=3307',
      '--user',
      'u',
      '--password',
      'pw',
      '--database',
      'd',
      '--table',
      't',
      '--alter',
      'ADD COLUMN c INT',
      '--execute',
      '--chunk-size',
      '500',
      '--approve-renamed-columns=true',
      '--ok-to-drop-table',
    ]),
    {},
  );
  assert.equal(req.password, 'pw');
  assert.deepEqual(req.input.server, { host: 'db1', port: 3307, user: 'u' });
  assert.equal(req.input.execute, true);
  assert.equal(req.input.chunkSize, 500);
  assert.equal(req.input.approveRenamedColumns, true);
  assert.ok(!JSON.stringify(req.input).includes('pw'));
  assert.throws(
    () => migrateRequest(parseFlags(['--database', 'd', '--table', 't']), {}),
    (e: Error) => e instanceof UsageError && /--alter is required/.test(e.message),
  );
  assert.throws(
    () => migrateRequest(parseFlags(['--database', 'd', '--table', 't', '--alter', 'FORCE', '--chunk-size', '0']), {}),
    /--chunk-size must be between 10 and 100000, got 0/,
  );
  assert.throws(() => parseFlags(['--execute=maybe']), /--execute takes true or false/);
});

test('DDL on a table of the same name in another database is not ours', () => {
  assert.equal(ddlTouchesTable('CREATE TABLE `lt_a`.`_t_gho` LIKE `lt_a`.`t`', 'lt_a', 'lt_b', 't'), false);
  assert.equal(ddlTouchesTable('ALTER TABLE t ADD COLUMN x INT', 'lt_a', 'lt_b', 't'), false);
  assert.equal(ddlTouchesTable('ALTER TABLE t ADD COLUMN x INT', 'lt_b', 'lt_b', 't'), true);
  assert.equal(ddlTouchesTable('drop table if exists `lt_b` . `t`', 'other', 'lt_b', 't'), true);
  assert.equal(ddlTouchesTable('RENAME TABLE lt_b.t_old TO lt_b.t2', 'lt_b', 'lt_b', 't'), false);
  assert.equal(ddlTouchesTable('TRUNCATE _t_gho', 'lt_b', 'lt_b', 't'), false);
});

test('localtests: mysql-client scripts split on their delimiter, gh-ost flags on shell words', () => {
  const script =
    "drop event if exists e;\n-- a comment; with a semicolon\ndelimiter ;;\ncreate event e on schedule every 1 second do\nbegin\n  insert into t values ('a;b');\n  update t set i = i + 1;\nend ;;\ndelimiter ;\ninsert into t values (1);";
  assert.deepEqual(splitSqlScript(script), [
    'drop event if exists e',
    "create event e on schedule every 1 second do\nbegin\n  insert into t values ('a;b');\n  update t set i = i + 1;\nend",
    'insert into t values (1)',
  ]);
  assert.deepEqual(
    shellWords(`--alter='MODIFY \`t1\` varchar(128)' --panic-on-warnings --alter "add unique index x(e)" -x=\\"a\\"`),
    ['--alter=MODIFY `t1` varchar(128)', '--panic-on-warnings', '--alter', 'add unique index x(e)', '-x="a"'],
  );
});

test('DDL on an event, a view or a copy LIKE the table does not change the table', () => {
  assert.equal(ddlTouchesTable('ALTER EVENT `t` DISABLE', 'lt_b', 'lt_b', 't'), false);
  assert.equal(ddlTouchesTable('CREATE TABLE x LIKE t', 'lt_b', 'lt_b', 't'), false);
  assert.equal(ddlTouchesTable('CREATE INDEX i ON t (a)', 'lt_b', 'lt_b', 't'), true);
});

test("gh-ost's flags for triggers, warnings, foreign keys and retries reach the migration input", () => {
  const req = migrateRequest(
    parseFlags([
      '--database',
      'd',
      '--table',
      't',
      '--alter',
      'engine=innodb',
      '--panic-on-warnings',
      '--include-triggers',
      '--trigger-suffix=_ght',
      '--remove-trigger-suffix-if-exists',
      '--discard-foreign-keys',
      '--attempt-instant-ddl',
      '--allow-nullable-unique-key',
      '--analyze-ghost-table-before-cutover',
      '--allow-zero-in-date',
      '--default-retries=1',
      '--gtid',
      '--checkpoint-seconds=10',
    ]),
  );
  assert.equal(req.input.panicOnWarnings, true);
  assert.deepEqual(req.input.triggers, { suffix: '_ght', removeSuffixIfExists: true });
  assert.equal(req.input.defaultRetries, 1);
  assert.equal(
    req.input.discardForeignKeys &&
      req.input.attemptInstantDdl &&
      req.input.allowNullableUniqueKey &&
      req.input.analyzeGhostTable &&
      req.input.allowZeroInDate,
    true,
  );
  assert.equal(req.input.checksum, true, '--checksum is on by default');
  const flagged = (...f: string[]) =>
    migrateRequest(parseFlags(['--database', 'd', '--table', 't', '--alter', 'FORCE', ...f])).input;
  assert.equal(flagged('--checksum=false').checksum, false);
  assert.equal(
    flagged('--allow-data-loss').checksum,
    false,
    'rows an accepted loss drops would fail it: only on request then',
  );
  assert.equal(flagged('--allow-data-loss', '--checksum').checksum, true);
  assert.equal(flagged('--allow-data-loss').allowDataLoss, true);
  assert.throws(
    () => migrateRequest(parseFlags(['--database', 'd', '--table', 't', '--alter', 'FORCE', '--trigger-suffix=_x'])),
    /need --include-triggers/,
  );
  assert.equal(ghostTriggerName('t_ai', { suffix: '_ght', removeSuffixIfExists: true }), 't_ai_ght');
  assert.equal(ghostTriggerName('t_ai_ght', { suffix: '_ght', removeSuffixIfExists: true }), 't_ai');
  assert.equal(ghostTriggerName('t_ai_ght', { suffix: '_ght', removeSuffixIfExists: false }), 't_ai_ght_ght');
});

test('MySQL credentials: a named connection from the worker config, with TLS files read by the worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revenant-cred-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      mysql: {
        prod: {
          host: 'db1.internal',
          port: 3307,
          user: 'migrator',
          password: 's3cret',
          ssl: { ca: join(dir, 'ca.pem') },
        },
        default: { password: 'other' },
      },
    }),
  );
  const resolve = credentialsFromEnvironment({ REVENANT_CONFIG: join(dir, 'config.json') });
  assert.deepEqual(resolve({ host: 'x', port: 1, name: 'prod' }), {
    user: 'migrator',
    password: 's3cret',
    host: 'db1.internal',
    port: 3307,
    ssl: { ca: 'CA PEM', cert: undefined, key: undefined, rejectUnauthorized: true, verifyIdentity: false },
    getServerPublicKey: false,
  });
  assert.equal(resolve({ host: 'x', port: 1 }).password, 'other');
  assert.throws(() => resolve({ host: 'x', port: 1, name: 'nope' }), /no MySQL connection named "nope"/);
  const req = migrateRequest(
    parseFlags(['--database', 'd', '--table', 't', '--alter', 'FORCE', '--mysql-connection', 'prod']),
  );
  assert.equal(req.input.server.name, 'prod');
});

test('adaptive chunks: toward the target time, at most doubling or halving, within bounds; fixed chunks when --chunk-size is given alone', () => {
  assert.equal(nextChunkSize(1000, 100, 500), 2000);
  assert.equal(nextChunkSize(1000, 2000, 500), 500);
  assert.equal(nextChunkSize(1000, 400, 500), 1250);
  assert.equal(nextChunkSize(80_000, 10, 500), MAX_ADAPTIVE_CHUNK);
  assert.equal(nextChunkSize(12, 5000, 500), 10);
  const base = ['--database', 'd', '--table', 't', '--alter', 'FORCE'];
  assert.equal(migrateRequest(parseFlags(base)).input.chunkTargetMillis, DEFAULTS.chunkTargetMillis);
  assert.equal(migrateRequest(parseFlags([...base, '--chunk-size', '500'])).input.chunkTargetMillis, undefined);
  assert.equal(
    migrateRequest(parseFlags([...base, '--chunk-size', '1000', '--chunk-target-millis', '200'])).input
      .chunkTargetMillis,
    200,
  );
  assert.deepEqual(validateChange({ 'chunk-size': 300 }), { chunkSize: 300, chunkTargetMillis: 0 });
});

test('chunk window: the watermark passes only committed ranges in key order; a resume redoes exactly the uncommitted claims', () => {
  const k = (n: number) => [n];
  const w = new ChunkWindow({ lastKey: null, max: k(50) });
  const a = w.claim(k(10));
  const b = w.claim(k(20));
  const c = w.claim(k(30));
  assert.deepEqual([a.after, b.after, c.after], [null, k(10), k(20)]);
  // b and c commit before a: the watermark stays put, both are kept as done beyond it.
  w.committed(b);
  const afterC = w.afterCommitting(c);
  assert.deepEqual(afterC, {
    lastKey: null,
    claimed: [
      { after: null, to: k(10), done: false },
      { after: k(10), to: k(20), done: true },
      { after: k(20), to: k(30), done: true },
    ],
  });
  w.committed(c);
  assert.throws(() => w.committed(c), /committed already/);
  // A checkpoint written now, and the attempt dies: the next one finds a (not done) to redo, then goes on from 30.
  const resumed = new ChunkWindow({ lastKey: null, max: k(50), claimed: afterC.claimed });
  assert.equal(resumed.exhausted, false);
  const redo = resumed.takeUnfinished()!;
  assert.deepEqual([redo.after, redo.to], [null, k(10)]);
  assert.equal(resumed.takeUnfinished(), undefined, "a range in one copier's hands is not handed to another");
  assert.deepEqual(resumed.cursor, k(30));
  const d = resumed.claim(k(50));
  assert.equal(resumed.exhausted, true);
  assert.equal(resumed.drained, true);
  assert.deepEqual(resumed.afterCommitting(redo), {
    lastKey: k(30),
    claimed: [{ after: k(30), to: k(50), done: false }],
  });
  resumed.committed(redo);
  assert.equal(resumed.complete, false);
  resumed.committed(d);
  assert.equal(resumed.complete, true);
  assert.throws(() => resumed.claim(k(60)), /past the end/);
  // In order, one at a time, it is the sequential copy: the watermark follows every commit.
  const s = new ChunkWindow({ lastKey: null, max: k(2) });
  const s1 = s.claim(k(1));
  assert.deepEqual(s.afterCommitting(s1), { lastKey: k(1), claimed: [] });
  s.committed(s1);
  s.committed(s.claim(k(2)));
  assert.equal(s.complete, true);
  assert.deepEqual(validateChange({ 'copy-threads': '4' }), { copyThreads: 4 });
  assert.throws(() => validateChange({ 'copy-threads': 0 }), /copy-threads must be between 1 and 16/);
  assert.equal(
    migrateRequest(parseFlags(['--database', 'd', '--table', 't', '--alter', 'FORCE', '--copy-threads', '3'])).input
      .copyThreads,
    3,
  );
});

test('deferred indexes: the non-unique ones of an InnoDB table without foreign keys, as the server prints them', () => {
  const create = [
    'CREATE TABLE `t` (',
    '  `id` int(11) NOT NULL,',
    '  `k` int(11) NOT NULL,',
    '  `n``m` varchar(10) DEFAULT NULL,',
    '  PRIMARY KEY (`id`),',
    '  UNIQUE KEY `u` (`k`,`id`),',
    '  KEY `k_1` (`k`),',
    "  KEY `we``ird` (`n``m`(5)) COMMENT 'c',",
    '  FULLTEXT KEY `ft` (`n``m`)',
    ') ENGINE=InnoDB DEFAULT CHARSET=latin1',
  ].join('\n');
  assert.deepEqual(deferrableIndexes(create), [
    { name: 'k_1', definition: 'KEY `k_1` (`k`)' },
    { name: 'we`ird', definition: "KEY `we``ird` (`n``m`(5)) COMMENT 'c'" },
  ]);
  assert.deepEqual(deferrableIndexes(create.replace('ENGINE=InnoDB', 'ENGINE=MyISAM')), []);
  assert.deepEqual(
    deferrableIndexes(
      create.replace('  FULLTEXT KEY `ft` (`n``m`)', '  CONSTRAINT `f` FOREIGN KEY (`k`) REFERENCES `p` (`id`)'),
    ),
    [],
  );
  assert.match(
    sql.addIndexes('d', '_t_gho', ['KEY `k_1` (`k`)']).sql,
    /^ALTER TABLE `d`\.`_t_gho` ADD KEY `k_1` \(`k`\), ALGORITHM=INPLACE, LOCK=NONE$/,
  );
  assert.equal(
    sql.dropIndexes('d', '_t_gho', ['k_1', 'we`ird']).sql,
    'ALTER TABLE `d`.`_t_gho` DROP INDEX `k_1`, DROP INDEX `we``ird`',
  );
});

test("a batch keeps each integer key's last change: deletes, then replaces; string keys keep every change in order", () => {
  const list: GhostDml[] = [];
  appendDml(
    list,
    changeToDml({ kind: 'update', rows: [{ before: { id: 1, v: 'a' }, after: { id: 1, v: 'b' } }] }, target),
  );
  appendDml(
    list,
    changeToDml({ kind: 'update', rows: [{ before: { id: 1, v: 'b' }, after: { id: 1, v: 'c' } }] }, target),
  );
  appendDml(list, changeToDml({ kind: 'delete', rows: [{ id: 2, v: 'x' }] }, target));
  appendDml(
    list,
    changeToDml(
      {
        kind: 'insert',
        rows: [
          { id: 2, v: 'y' },
          { id: 3, v: 'z' },
        ],
      },
      target,
    ),
  );
  appendDml(
    list,
    changeToDml({ kind: 'update', rows: [{ before: { id: 3, v: 'z' }, after: { id: 4, v: 'z' } }] }, target),
  );
  appendDml(list, changeToDml({ kind: 'delete', rows: [{ id: 1, v: 'c' }] }, target));
  assert.deepEqual(text(dmlToStatements(lastChangePerKey(list, target), target)), [
    'DELETE FROM `d`.`_t_gho` WHERE `id` IN (1, 3)',
    "REPLACE INTO `d`.`_t_gho` (`id`, `w`) VALUES (2, 'y'), (4, 'z')",
  ]);
  const byString = { ...target, key: { name: 'PRIMARY', columns: ['v'], integer: [false] } };
  const ci: GhostDml[] = [];
  appendDml(ci, changeToDml({ kind: 'insert', rows: [{ id: 1, v: 'A' }] }, byString));
  appendDml(ci, changeToDml({ kind: 'delete', rows: [{ id: 1, v: 'a' }] }, byString));
  assert.deepEqual(
    lastChangePerKey(ci, byString),
    ci,
    "'A' and 'a' may be one key on the server: nothing is reduced or reordered",
  );
});

test('heartbeat values read back as the epoch milliseconds they were written for', () => {
  // As the applier's Heartbeat writes them: the server's clock, UTC, without the T and Z.
  const at = Date.UTC(2026, 11, 1, 8, 30, 15, 123);
  const value = new Date(at).toISOString().replace('T', ' ').replace('Z', '');
  assert.equal(value, '2026-12-01 08:30:15.123');
  assert.equal(heartbeatMillis(value), at);
  assert.ok(Number.isNaN(heartbeatMillis('not a heartbeat')));
});

test('checksum: a dense integer key is cut by arithmetic, a unique key bounding each range; a sparse one is read', () => {
  // A million dense keys, whatever the statistics count (half the rows, or three times them).
  assert.equal(denseIntegerKey(1n, 1_000_000n, 1_000_000), true);
  assert.equal(denseIntegerKey(1n, 1_000_000n, 500_000), true);
  assert.equal(denseIntegerKey(1n, 1_000_000n, 3_000_000), true);
  // Past four times the rows the key is sparse: its ranges are found by reading.
  assert.equal(denseIntegerKey(1n, 4_000_000n, 1_000_000), true);
  assert.equal(denseIntegerKey(1n, 4_000_001n, 1_000_000), false);
  // No statistics yet: read.
  assert.equal(denseIntegerKey(1n, 10n, 0), false);
  // Keys past 2^53 and below zero keep their exact arithmetic.
  const big = 2n ** 62n;
  assert.equal(denseIntegerKey(big, big + 999_999n, 1_000_000), true);
  assert.equal(denseIntegerKey(big, big + 4_000_000n, 1_000_000), false);
  assert.equal(denseIntegerKey(-500_000n, 499_999n, 1_000_000), true);
});

test('copy: the chunks of a dense integer key end by arithmetic, each within the key range', () => {
  // The first range from the min included, the next ones after the cursor: `size` keys each.
  assert.equal(chunkEndByArithmetic(null, 1n, 1_000_000n, 1000), 1000n);
  assert.equal(chunkEndByArithmetic(1000n, 1n, 1_000_000n, 1000), 2000n);
  // Never past the max: the last range ends on it, which is what ends the copy.
  assert.equal(chunkEndByArithmetic(999_500n, 1n, 1_000_000n, 1000), 1_000_000n);
  assert.equal(chunkEndByArithmetic(null, 5n, 5n, 1000), 5n);
  // A size of less than one key value still moves on by one; a fractional size is floored.
  assert.equal(chunkEndByArithmetic(7n, 1n, 100n, 0), 8n);
  assert.equal(chunkEndByArithmetic(7n, 1n, 100n, 2.9), 9n);
  // Past 2^53 and below zero, exact.
  const big = 2n ** 62n;
  assert.equal(chunkEndByArithmetic(big, big, big + 10_000n, 1000), big + 1000n);
  assert.equal(chunkEndByArithmetic(null, -500n, 500n, 100), -401n);
});

test('checksum: one range of each table, values cast to binary with NULL told apart; retyped columns left out', () => {
  const range = { from: [10n], fromInclusive: false, to: [20n] };
  const orig = sql.rangeChecksum('d', 't', 'PRIMARY', ['id'], ['id', 'note'], range);
  assert.match(
    orig.sql,
    /^SELECT COUNT\(\*\) AS n, COALESCE\(SUM\(CRC32\(CONCAT\(CONCAT_WS\(0x1f, CAST\(`id` AS BINARY\), ISNULL\(`id`\)\), 0x1f, CONCAT_WS\(0x1f, CAST\(`note` AS BINARY\), ISNULL\(`note`\)\)\)\)\), 0\) AS s\s+FROM `d`\.`t` FORCE INDEX \(`PRIMARY`\)\s+WHERE \(`id` > \?\) AND \(`id` <= \?\)$/,
  );
  assert.deepEqual(orig.params, [10n, 20n]);
  const ghost = sql.rangeChecksum('d', '_t_gho', null, ['id'], ['id', 'remark'], {
    from: [1n],
    fromInclusive: true,
    to: [9n],
  });
  assert.match(ghost.sql, /FROM `d`\.`_t_gho`\s+WHERE \(`id` >= \?\) AND \(`id` <= \?\)$/);
  assert.deepEqual(ghost.params, [1n, 9n]);
  // The checksum's repair: ranges open on either side, or on both.
  assert.match(
    sql.deleteKeyRange('d', '_t_gho', ['id'], { from: null, fromInclusive: true, to: [1n], toInclusive: false }).sql,
    /WHERE \(`id` < \?\)$/,
  );
  assert.match(
    sql.deleteKeyRange('d', '_t_gho', ['id'], { from: [9n], fromInclusive: false, to: null }).sql,
    /WHERE \(`id` > \?\)$/,
  );
  assert.match(
    sql.deleteKeyRange('d', '_t_gho', ['id'], { from: null, fromInclusive: true, to: null }).sql,
    /WHERE TRUE$/,
  );
  const col = (COLUMN_NAME: string, COLUMN_TYPE: string, COLLATION_NAME: string | null = null) => ({
    COLUMN_NAME,
    COLUMN_TYPE,
    CHARACTER_SET_NAME: COLLATION_NAME && 'utf8mb4',
    COLLATION_NAME,
  });
  const { compared, skipped } = comparableColumns(
    [
      { source: 'id', ghost: 'id' },
      { source: 'note', ghost: 'remark' },
      { source: 'uk', ghost: 'uk' },
      { source: 'name', ghost: 'name' },
    ],
    [
      col('id', 'bigint(20)'),
      col('note', 'varchar(255)', 'utf8mb4_general_ci'),
      col('uk', 'int(11)'),
      col('name', 'varchar(64)', 'utf8mb4_general_ci'),
    ],
    [
      col('id', 'bigint(20)'),
      col('remark', 'varchar(255)', 'utf8mb4_general_ci'),
      col('uk', 'bigint(20)'),
      col('name', 'varchar(64)', 'utf8mb4_bin'),
    ],
  );
  assert.deepEqual(
    compared.map((c) => c.source),
    ['id', 'note'],
  );
  assert.deepEqual(skipped, ['uk', 'name']);
  // A column NOT NULL in both tables is hashed without its ISNULL; NULL-able on either side, with it.
  const notNullIn = (cols: string[]) => (c: ReturnType<typeof col>) => ({
    ...c,
    IS_NULLABLE: cols.includes(c.COLUMN_NAME) ? 'NO' : 'YES',
  });
  const both = comparableColumns(
    [
      { source: 'id', ghost: 'id' },
      { source: 'note', ghost: 'note' },
      { source: 'amount', ghost: 'amount' },
    ],
    [col('id', 'bigint(20)'), col('note', 'text'), col('amount', 'int(11)')].map(notNullIn(['id', 'note'])),
    [col('id', 'bigint(20)'), col('note', 'text'), col('amount', 'int(11)')].map(notNullIn(['id', 'amount'])),
  ).compared;
  assert.deepEqual(
    both.map((c) => c.notNull),
    [true, false, false],
  );
  assert.match(
    sql.rangeChecksum(
      'd',
      't',
      null,
      ['id'],
      both.map((c) => c.source),
      range,
      both.map((c) => c.notNull),
    ).sql,
    /CONCAT\(CAST\(`id` AS BINARY\), 0x1f, CONCAT_WS\(0x1f, CAST\(`note` AS BINARY\), ISNULL\(`note`\)\), 0x1f, CONCAT_WS\(0x1f, CAST\(`amount` AS BINARY\), ISNULL\(`amount`\)\)\)/,
  );
  // Text in one collation (numbers and binary strings beside it): the values as they are.
  assert.match(
    sql.rangeChecksum('d', 't', null, ['id'], ['id', 'note'], range, [true, false], [true, true]).sql,
    /CONCAT\(`id`, 0x1f, CONCAT_WS\(0x1f, `note`, ISNULL\(`note`\)\)\)/,
  );
  // On MySQL the number cast, the text as it is; in two collations everything cast.
  const oneCollationTypes = [
    col('id', 'int'),
    col('note', 'text', 'utf8mb4_general_ci'),
    { ...col('raw', 'blob'), CHARACTER_SET_NAME: 'binary' },
  ];
  const oneCollation = comparableColumns(
    [
      { source: 'id', ghost: 'id' },
      { source: 'note', ghost: 'note' },
      { source: 'raw', ghost: 'raw' },
    ],
    oneCollationTypes,
    oneCollationTypes,
  );
  assert.equal(oneCollation.bare, true);
  assert.deepEqual(hashedAsTheyAre(oneCollation.compared, true, true), [false, true, true]);
  assert.deepEqual(hashedAsTheyAre(oneCollation.compared, true, false), [true, true, true]);
  assert.deepEqual(hashedAsTheyAre(oneCollation.compared, false, true), [false, false, false]);
  assert.match(
    sql.rangeChecksum('d', 't', null, ['id'], ['id', 'note'], range, [true, true], [false, true]).sql,
    /CONCAT\(CAST\(`id` AS BINARY\), 0x1f, `note`\)/,
  );
  const typed = (COLUMN_TYPE: string, CHARACTER_SET_NAME: string | null, COLLATION_NAME: string | null) => ({
    COLUMN_NAME: 'c',
    COLUMN_TYPE,
    CHARACTER_SET_NAME,
    COLLATION_NAME,
  });
  const text = typed('text', 'utf8mb4', 'utf8mb4_general_ci');
  assert.equal(oneTextCollation([typed('int', null, null), text, typed('blob', 'binary', 'binary'), text]), true);
  assert.equal(oneTextCollation([typed('int', null, null)]), true);
  assert.equal(oneTextCollation([text, typed('text', 'utf8mb4', 'utf8mb4_bin')]), false);
  assert.equal(oneTextCollation([text, typed('varchar(9)', 'latin1', 'latin1_swedish_ci')]), false);
  assert.equal(
    comparableColumns(
      [
        { source: 'a', ghost: 'a' },
        { source: 'b', ghost: 'b' },
      ],
      [col('a', 'text', 'utf8mb4_general_ci'), col('b', 'text', 'utf8mb4_bin')],
      [col('a', 'text', 'utf8mb4_general_ci'), col('b', 'text', 'utf8mb4_bin')],
    ).bare,
    false,
  );
  assert.equal(comparableColumns([{ source: 'id', ghost: 'id' }], [col('id', 'int')], [col('id', 'int')]).bare, true);
});

test('flavor: MariaDB and MySQL told apart by @@version and @@version_comment, and their statements', async () => {
  const maria = detectFlavor('10.11.6-MariaDB-0+deb12u1-log', 'Debian 12');
  assert.deepEqual([maria.kind, maria.major, maria.minor, maria.patch], ['mariadb', 10, 11, 6]);
  assert.equal(detectFlavor('5.5.5-10.6.12-MariaDB', '').name, 'MariaDB 10.6.12');
  const my97 = detectFlavor('9.7.4-2', '(Debian)');
  const my84 = detectFlavor('8.4.3', 'MySQL Community Server - GPL');
  const my80 = detectFlavor('8.0.21', 'MySQL Community Server - GPL');
  const my8036 = detectFlavor('8.0.36', 'MySQL Community Server - GPL');
  assert.equal(my97.kind, 'mysql');
  // "10.11" is not newer than "8.4": versions compare within their own line.
  assert.ok(atLeast(maria, 10, 6) && !atLeast(my84, 10));
  assert.equal(binlogStatus(maria).sql, 'SHOW MASTER STATUS');
  assert.equal(binlogStatus(my80).sql, 'SHOW MASTER STATUS');
  assert.equal(binlogStatus(my84).sql, 'SHOW BINARY LOG STATUS');
  assert.equal(replicaStatusQuery(maria).sql, 'SHOW SLAVE STATUS');
  assert.equal(replicaStatusQuery(my80).sql, 'SHOW SLAVE STATUS');
  assert.equal(replicaStatusQuery(my8036).sql, 'SHOW REPLICA STATUS');
  assert.equal(stopReplica(my97, true).sql, 'STOP REPLICA SQL_THREAD');
  assert.match(replicaLogsUpdates(my97).sql, /log_replica_updates/);
  assert.match(replicaLogsUpdates(maria).sql, /log_slave_updates/);
  assert.equal(gtidModeProblem(my97, 'ON'), null);
  assert.equal(gtidModeProblem(my97, 'OFF'), null);
  assert.match(gtidModeProblem(my97, 'ON_PERMISSIVE') ?? '', /transitional GTID mode/);
  assert.equal(gtidModeProblem(maria, 'whatever'), null);
  assert.ok(usesGtids(my97, 'ON') && !usesGtids(my97, 'OFF') && usesGtids(maria, ''));
  assert.deepEqual(
    [...parseMariadbGtidPos('0-1-100,2-5-7')],
    [
      [0, 100n],
      [2, 7n],
    ],
  );
});

test('a generated column is not mistaken: MySQL says DEFAULT_GENERATED for an expression default', async () => {
  assert.equal(isGenerated({ EXTRA: 'DEFAULT_GENERATED', GENERATION_EXPRESSION: '' }), false);
  assert.equal(
    isGenerated({ EXTRA: 'DEFAULT_GENERATED on update CURRENT_TIMESTAMP', GENERATION_EXPRESSION: '' }),
    false,
  );
  assert.equal(isGenerated({ EXTRA: 'STORED GENERATED', GENERATION_EXPRESSION: '(`a` * 2)' }), true);
  assert.equal(isGenerated({ EXTRA: 'VIRTUAL GENERATED', GENERATION_EXPRESSION: '(`a` * 2)' }), true);
  assert.equal(isGenerated({ EXTRA: '', GENERATION_EXPRESSION: null }), false);
});

test('connection failures no retry can mend are refused at once; others are retried', async () => {
  const server = { host: 'db1', port: 3306 };
  const denied = connectFailure(server, 'u', {
    code: 'ER_ACCESS_DENIED_ERROR',
    errno: 1045,
    sqlState: '28000',
    sqlMessage: "Access denied for user 'u'@'x'",
  }) as any;
  assert.equal(denied.nonRetryable, true);
  assert.match(denied.message, /cannot log in to db1:3306 as u: Error 1045 \(28000\): Access denied/);
  const refused = { code: 'ECONNREFUSED' };
  assert.equal(connectFailure(server, 'u', refused), refused, 'underway, a refused connection is a restart: retried');
  assert.match(
    (connectFailure(server, 'u', refused, { firstContact: true }) as any).message,
    /nothing listens on port 3306/,
  );
  assert.match(
    (connectFailure(server, 'u', { code: 'ENOTFOUND' }, { firstContact: true }) as any).message,
    /the host name db1 does not resolve/,
  );
});

test('a row the copy leaves out counts as lost only when the ghost row in its place is current in the original', () => {
  const s = sql.rowsDisplacedByCurrentRows(
    'd',
    't',
    '_t_gho',
    { name: 'PRIMARY', columns: ['id'] },
    [{ source: 'id', ghost: 'id' }],
    [[{ ghost: 'uk', source: 'uk' }], [{ ghost: 'fresh' }]],
    { from: [1n], fromInclusive: true, to: [9n] },
  );
  // Not in the ghost by the apply key …
  assert.match(s.sql, /NOT EXISTS \(SELECT 1 FROM `d`\.`_t_gho` AS g0 WHERE g0\.`id` = o\.`id`\)/);
  // … and its unique value held by a ghost row that the original holds, with that value.
  assert.match(
    s.sql,
    /EXISTS \(SELECT 1 FROM `d`\.`_t_gho` AS g JOIN `d`\.`t` AS o2 ON o2\.`id` = g\.`id` WHERE g\.`uk` = o\.`uk` AND o2\.`uk` = g\.`uk`\)/,
  );
  // A unique key on a column the original lacks: any current ghost row may hold the place.
  assert.match(s.sql, /OR EXISTS \(SELECT 1 FROM `d`\.`_t_gho` AS g JOIN `d`\.`t` AS o2 ON o2\.`id` = g\.`id`\)\)$/);
  assert.deepEqual(s.params, [1n, 9n]);
  // No other unique key: nothing can displace a row.
  assert.match(
    sql.rowsDisplacedByCurrentRows(
      'd',
      't',
      '_t_gho',
      { name: 'PRIMARY', columns: ['id'] },
      [{ source: 'id', ghost: 'id' }],
      [],
      { from: [1n], fromInclusive: true, to: [9n] },
    ).sql,
    /AND \(FALSE\)$/,
  );
});

test("MySQL binary JSON: decoded with each value's type, rebuilt by SQL that keeps it", () => {
  // {"a": 24.0, "b": [5, 7 unsigned], "c": 50.0000 DECIMAL(10,4)}, laid out as sql/json_binary.h says:
  // a small object's count, size, key entries (offset, length), value entries (type, offset or
  // inlined value), keys, then values; offsets from the object's start (byte 1).
  const u16 = (v: number) => [v & 0xff, v >> 8];
  const dbl = Buffer.alloc(8);
  dbl.writeDoubleLE(24);
  const array = [...u16(2), ...u16(10), 0x05, ...u16(5), 0x06, ...u16(7)];
  const decimal = [0x0f, 246, 7, 10, 4, 0x80, 0x00, 0x32, 0x00, 0x00];
  const object = [
    ...u16(3),
    ...u16(55),
    ...u16(25),
    ...u16(1),
    ...u16(26),
    ...u16(1),
    ...u16(27),
    ...u16(1),
    0x0b,
    ...u16(28),
    0x02,
    ...u16(36),
    0x0f,
    ...u16(46),
    ...Buffer.from('abc'),
    ...dbl,
    ...array,
    ...decimal.slice(1),
  ];
  const doc = decodeBinaryJson(Buffer.from([0x00, ...object]));
  assert.deepEqual(doc, {
    t: 'object',
    entries: [
      ['a', { t: 'double', v: 24 }],
      [
        'b',
        {
          t: 'array',
          items: [
            { t: 'int', v: 5n },
            { t: 'uint', v: 7n },
          ],
        },
      ],
      ['c', { t: 'opaque', type: 246, data: Buffer.from([10, 4, 0x80, 0x00, 0x32, 0x00, 0x00]) }],
    ],
  });
  const rebuilt = jsonValueSql(doc);
  assert.equal(
    rebuilt.sql,
    'JSON_OBJECT(?, CAST(? AS JSON), ?, JSON_ARRAY(CAST(? AS JSON), CAST(? AS UNSIGNED)), ?, CAST(? AS DECIMAL(10, 4)))',
  );
  assert.deepEqual(rebuilt.params, ['a', '24.0', 'b', '5', '7', 'c', '50.0000']);
  assert.equal(String(rebuilt), '{"a": 24.0, "b": [5, 7], "c": "50.0000"}');
  // Plain documents are their text; doubles keep a fraction or an exponent.
  assert.deepEqual(
    jsonValueSql({
      t: 'array',
      items: [
        { t: 'double', v: 1e300 },
        { t: 'double', v: -0 },
        { t: 'string', v: 'é"' },
      ],
    }).params,
    ['[1e+300, -0.0, "é\\""]'],
  );
  assert.equal(doubleText(0.1), '0.1');
  // DECIMAL's binary form: a negative number's bytes inverted; nine digits to four bytes.
  assert.equal(decimalText(Buffer.from([5, 2, 0x7f, 0xf3, 0xcd])), '-12.50');
  assert.equal(decimalText(Buffer.from([10, 0, 0x80, 0x00, 0x00, 0x00, 0x00])), '0');
  assert.equal(decimalText(Buffer.from([12, 1, 0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x03])), '1234567890.3');
  // A value no SQL makes (a BLOB column's bytes in a document) is refused, or with --allow-data-loss written as its text.
  const blob = { t: 'opaque', type: 252, data: Buffer.from('x') } as const;
  assert.throws(() => jsonValueSql(blob), UnrepresentableJson);
  assert.deepEqual(jsonValueSql(blob, true).params, ['"base64:type252:eA=="']);
});

test('revert window: the plans of each direction, and which name the cut-over probes before unlocking', () => {
  const p = {
    database: 'd',
    table: 't',
    ghostTable: '_t_gho',
    changelogTable: '_t_ghc',
    oldTable: '_t_del',
    estimatedRows: 0,
    serverVersion: '',
    serverUuid: '',
    columns: [
      { source: 'id', ghost: 'id' },
      { source: 'old_name', ghost: 'new_name' },
      { source: 'g', ghost: 'g', generated: true },
    ],
    key: { name: 'PRIMARY', columns: ['old_name'], integer: [false] },
    deferredIndexes: [{ name: 'k', definition: 'KEY k (id)' }],
  };
  const back = windowPlan(p, 1);
  assert.deepEqual(
    { ghost: back.ghostTable, old: back.oldTable, window: back.window, deferred: back.deferredIndexes },
    { ghost: '_t_del', old: '_t_gho', window: 1, deferred: undefined },
  );
  assert.deepEqual(back.columns, [
    { source: 'id', ghost: 'id' },
    { source: 'new_name', ghost: 'old_name' },
    { source: 'g', ghost: 'g', generated: true },
  ]);
  assert.deepEqual(back.key.columns, ['new_name'], "the key by the migrated table's names");
  const forth = windowPlan(p, 2);
  assert.deepEqual(
    { ghost: forth.ghostTable, old: forth.oldTable, columns: forth.columns, key: forth.key },
    { ghost: '_t_gho', old: '_t_del', columns: p.columns, key: p.key },
  );
  assert.equal(tableHas(1), 'migrated');
  assert.equal(tableHas(2), 'original');
  // The RENAME locks names in byte order: the last of the others before the table's own.
  assert.equal(renameProbeTable('t', '_t_del', '_t_gho'), '_t_gho');
  assert.equal(renameProbeTable('t', '_t_gho', '_t_del'), '_t_gho');
  assert.equal(
    renameProbeTable('Orders', '_Orders_del', '_Orders_gho'),
    undefined,
    "'O' sorts before '_': the RENAME queues on the table first",
  );
});

test("an activity's sleep lets go of the cancellation signal when it wakes, and ends at once when cancelled", async () => {
  // Context.sleep keeps each sleep reachable until the activity ends (see runtime/sleep.ts):
  // a copy sleeping after every chunk for weeks must hold nothing per sleep.
  const controller = new AbortController();
  for (let i = 0; i < 1000; i++) await sleep(0, controller.signal);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  const started = Date.now();
  const long = sleep(60_000, controller.signal);
  controller.abort(new Error('cancelled by the test'));
  await assert.rejects(long, /cancelled by the test/);
  assert.ok(Date.now() - started < 1000);
  await assert.rejects(sleep(10, controller.signal), /cancelled by the test/);
});

test("a workflow's progress reports go as one signal a window: the first at once, the latest of each kind, resumes at once", async () => {
  const sent: { id: string; reports: ProgressReport[] }[] = [];
  const batcher = new ProgressBatcher(async ({ workflowId: id }, reports) => {
    sent.push({ id, reports });
  });
  const copy = (rows: number): ProgressReport => ({
    kind: 'copy',
    copy: { rowsCopied: rows, chunksCopied: 1, done: false, chunkSize: 10 },
  });
  const apply: ProgressReport = {
    kind: 'apply',
    apply: { eventsApplied: 5, position: 'p', lagSeconds: 0, backlogBytes: 0 } as any,
  };
  batcher.add({ workflowId: 'w' }, copy(1));
  batcher.add({ workflowId: 'w' }, apply);
  assert.equal(sent.length, 2, 'the first report of each kind goes at once');
  batcher.add({ workflowId: 'w' }, copy(2));
  batcher.add({ workflowId: 'w' }, apply);
  batcher.add({ workflowId: 'w' }, copy(3));
  batcher.add({ workflowId: 'other' }, copy(9));
  assert.deepEqual(
    sent.map((s) => s.id),
    ['w', 'w', 'other'],
    'within the window, w waits; another workflow has its own',
  );
  await new Promise((r) => setTimeout(r, MIN_WINDOW_MS + 300));
  assert.equal(sent.length, 4);
  assert.deepEqual(
    sent[3].reports,
    [apply, copy(3)],
    'one signal: the latest of each kind, in the order of their latest version',
  );
  batcher.add({ workflowId: 'w' }, copy(4));
  batcher.add({ workflowId: 'w' }, { kind: 'resume', phase: 'copy', attempt: 2, redone: 0, checkpoint: 'chunk 4' });
  assert.equal(sent.length, 5, 'a resume goes at once, with what waited');
  assert.deepEqual(
    sent[4].reports.map((r) => r.kind),
    ['copy', 'resume'],
  );
  batcher.add({ workflowId: 'w' }, copy(5), true);
  assert.equal(sent.length, 6, 'an urgent report goes at once');
  // Another run of the same workflow id has an outbox of its own: its first report goes at once,
  // to it (an activity that outlived its run reports to that run, never to the next).
  const runs: (string | undefined)[] = [];
  const perRun = new ProgressBatcher(async ({ runId }) => {
    runs.push(runId);
  });
  perRun.add({ workflowId: 'w', runId: 'r1' }, copy(1));
  perRun.add({ workflowId: 'w', runId: 'r2' }, copy(1));
  perRun.add({ workflowId: 'w', runId: 'r1' }, copy(2));
  assert.deepEqual(runs, ['r1', 'r2']);
  await perRun.close();
});

test('a throttle from outside the migration, and its end, go to the workflow at once; the copy yielding to its applier waits', () => {
  const replica = 'lag: replica 127.0.0.1:3307 is 1.4s behind (max-lag-millis 1000)';
  const yielding = 'apply lag: the applier is 1.2s behind; the copy waits for it';
  assert.equal(throttleChangeIsUrgent(replica, null), true, 'a replica starts to lag');
  assert.equal(throttleChangeIsUrgent(null, replica), true, 'it caught up');
  assert.equal(throttleChangeIsUrgent(replica, yielding), true, 'the copy yielded, now a replica lags');
  assert.equal(throttleChangeIsUrgent('max-load Threads_running=80 >= 50', null), true);
  assert.equal(throttleChangeIsUrgent(yielding, null), false, 'the copy yields to its applier');
  assert.equal(throttleChangeIsUrgent(null, yielding), false, 'and goes on');
  assert.equal(throttleChangeIsUrgent(null, null), false);
  assert.equal(
    throttleChangeIsUrgent(replica.replace('1.4s', '3.3s'), replica),
    false,
    'new figures for the same reason wait',
  );
  assert.equal(
    throttleChangeIsUrgent('max-load Threads_running=81 >= 50', 'max-load Threads_running=80 >= 50'),
    false,
    'new figures for the same load',
  );
  assert.equal(throttleChangeIsUrgent('paused by operator', 'max-load Threads_running=80 >= 50'), true);
});

test('a closing batcher fires no timer, sends nothing more, and waits for the sends in flight, which it aborts', async () => {
  const sent: string[] = [];
  let aborted = false;
  const batcher = new ProgressBatcher(async ({ workflowId: id }, _reports, signal) => {
    sent.push(id);
    if (id !== 'slow') return;
    // A send that ends only when given up, as the client's does when its signal aborts.
    await new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => {
        aborted = true;
        resolve();
      }),
    );
  });
  const copy = (rows: number): ProgressReport => ({
    kind: 'copy',
    copy: { rowsCopied: rows, chunksCopied: 1, done: false, chunkSize: 10 },
  });
  batcher.add({ workflowId: 'slow' }, copy(1));
  batcher.add({ workflowId: 'w' }, copy(1));
  batcher.add({ workflowId: 'w' }, copy(2));
  await batcher.close();
  assert.ok(aborted, 'the send in flight was aborted and settled before close returned');
  batcher.add({ workflowId: 'w' }, copy(3), true);
  await new Promise((r) => setTimeout(r, 2_300));
  assert.deepEqual(sent, ['slow', 'w'], 'the waiting report and the one after closing were never sent');
});

test('attaching compares what the migration does, not the settings an operator may change', () => {
  const base = migrateRequest(parseFlags(['--database', 'd', '--table', 't', '--alter', 'FORCE', '--execute'])).input;
  assert.deepEqual(inputDifferences(base, { ...base }), []);
  assert.deepEqual(inputDifferences(base, { ...base, chunkSize: 50, niceRatio: 2, renewal: undefined }), []);
  assert.deepEqual(inputDifferences(base, { ...base, execute: false, okToDropTable: true }), [
    'execute',
    'okToDropTable',
  ]);
  assert.deepEqual(inputDifferences(base, { ...base, server: { ...base.server, user: 'other' } }), ['server']);
  assert.deepEqual(inputDifferences(base, { ...base, hooksPath: '/elsewhere' }), ['hooksPath']);
});

test('workflow ids of names holding . : or % cannot collide; plain names keep their ids', () => {
  const server = { host: '127.0.0.1', port: 3306 };
  assert.equal(migrationWorkflowId(server, 'shop', 'orders'), 'revenant:127.0.0.1:3306:shop.orders');
  assert.notEqual(migrationWorkflowId(server, 'a.b', 'c'), migrationWorkflowId(server, 'a', 'b.c'));
  assert.equal(migrationWorkflowId(server, 'a.b', 'c:d%'), 'revenant:127.0.0.1:3306:a%2Eb.c%3Ad%25');
});

test('a worker sends its login only where its operator said, as the user and with the TLS it was given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-authority-'));
  const config = join(dir, 'config.json');
  writeFileSync(join(dir, 'key.pem'), 'KEY PEM');
  writeFileSync(
    config,
    JSON.stringify({
      mysql: {
        'db1:3306': { user: 'migrator', password: 'one' },
        named: { host: 'db2', port: 3307, password: 'two', serverPublicKey: join(dir, 'key.pem') },
      },
    }),
  );
  const resolve = credentialsFromEnvironment({ REVENANT_CONFIG: config });
  assert.equal(resolve({ host: 'db1', port: 3306 }).password, 'one');
  assert.equal(
    resolve({ host: 'db2', port: 3307 }).serverPublicKey,
    undefined,
    'by address, the entry is "db2:3307"\'s: none',
  );
  assert.equal(resolve({ host: 'x', port: 1, name: 'named' }).serverPublicKey, 'KEY PEM');
  assert.throws(
    () => resolve({ host: 'evil', port: 3306 }),
    /this worker does not connect to evil:3306: its configuration names no such server \(servers db1:3306, db2:3307\)/,
  );
  assert.throws(
    () => resolve({ host: 'db1', port: 3306, user: 'root' }),
    /logs in to db1:3306 as migrator only; the migration asked for root/,
  );
  assert.equal(resolve({ host: 'db1', port: 3306, user: 'migrator' }).user, 'migrator');
  // Without a config or a host list: this machine's servers only.
  const local = credentialsFromEnvironment({ REVENANT_MYSQL_PASSWORD: 'p' });
  assert.equal(local({ host: '127.0.0.1', port: 3306 }).password, 'p');
  assert.throws(() => local({ host: '10.0.0.1', port: 3306 }), /servers on this machine only/);
  const listed = credentialsFromEnvironment({ REVENANT_MYSQL_PASSWORD: 'p', REVENANT_MYSQL_HOSTS: 'db1:3306, db3:*' });
  assert.equal(listed({ host: 'db3', port: 9 }).password, 'p');
  assert.throws(() => listed({ host: '127.0.0.1', port: 3306 }), /servers db1:3306, db3:\*/);
  assert.equal(credentialsFromEnvironment({ REVENANT_MYSQL_HOSTS: '*' })({ host: 'anywhere', port: 1 }).user, 'root');
  // A configured TLS stands: a workflow may not weaken it.
  const tls = credentialsFromEnvironment({ REVENANT_MYSQL_SSL_CA: join(dir, 'key.pem'), REVENANT_MYSQL_HOSTS: '*' });
  assert.throws(
    () => tls({ host: 'db', port: 1, tls: { allowInsecure: true } }),
    /TLS settings of its own configuration/,
  );
  // The embedded CLI's worker serves its command line: its servers, user and TLS are the command's.
  const embedded = credentialsFromEnvironment({}, { password: 'cli' });
  assert.equal(embedded({ host: 'db9', port: 3306, user: 'u' }).user, 'u');
  assert.equal(embedded({ host: 'db9', port: 3306 }).getServerPublicKey, true);
});

test("hooks directories and throttle URLs: only what the worker's environment lists", () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-policy-'));
  const policy = policyFromEnvironment({
    REVENANT_HOOKS_DIRS: `${dir}:relative`,
    REVENANT_THROTTLE_HTTP_URLS: 'http://freno:3000/check/',
  });
  assert.equal(policy.refusesHooksPath(dir), null);
  assert.equal(policy.refusesHooksPath(join(dir, '.')), null);
  assert.match(policy.refusesHooksPath(join(dir, '..')) ?? '', /not among the hook directories this worker allows/);
  assert.match(policy.refusesHooksPath('/usr/bin') ?? '', /REVENANT_HOOKS_DIRS/);
  assert.equal(policy.refusesThrottleUrl('http://freno:3000/check/revenant/mysql/main'), null);
  assert.match(
    policy.refusesThrottleUrl('http://169.254.169.254/latest/meta-data') ?? '',
    /not under a URL this worker allows/,
  );
  assert.equal(policyFromEnvironment({}, true).refusesHooksPath('/anything'), null);
  assert.match(policyFromEnvironment({}).refusesThrottleUrl('http://x/') ?? '', /none/);
});

test('a session keeps its sql_mode but for NO_BACKSLASH_ESCAPES; stored index definitions must be plain', () => {
  assert.equal(safeSqlMode('STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'), null);
  assert.equal(
    safeSqlMode('STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES,ANSI_QUOTES')?.sql,
    "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ANSI_QUOTES'",
  );
  assert.equal(safeSqlMode('NO_BACKSLASH_ESCAPES')?.sql, "SET SESSION sql_mode = ''");
  assert.equal(plainIndexName('KEY `k_1` (`k`)'), 'k_1');
  assert.equal(
    plainIndexName("KEY `we``ird` (`n``m`(5),`b` DESC) USING BTREE COMMENT 'c''s' /*!80000 INVISIBLE */"),
    'we`ird',
  );
  assert.equal(plainIndexName('KEY `k` (`name`), DROP COLUMN `amount`, ADD KEY `z` (`id`)'), undefined);
  assert.equal(plainIndexName('KEY `f` ((lower(`c`)))'), undefined);
  assert.equal(plainIndexName('UNIQUE KEY `u` (`c`)'), undefined);
  assert.equal(sql.literalAnyMode("o'neil"), "'o''neil'");
  assert.throws(() => sql.literalAnyMode('back\\slash'), /backslash/);
  assert.equal(reasonLabel('flag-file /secret/path exists'), 'flag-file');
  assert.equal(reasonLabel('something new'), 'other');
});

test("a revert window's updates that keep their keys go as one UPDATE; a key change or a repeated key ends the run", () => {
  const target: ApplyTarget = {
    database: 'd',
    ghostTable: '_t_del',
    columns: [
      { source: 'id', ghost: 'id' },
      { source: 'v', ghost: 'w' },
    ],
    key: { name: 'PRIMARY', columns: ['id'], integer: [true] },
    inOrder: true,
  };
  const list: GhostDml[] = [];
  const update = (before: number, after: number, v: string) =>
    appendDml(
      list,
      changeToDml({ kind: 'update', rows: [{ before: { id: before, v: 'old' }, after: { id: after, v } }] }, target),
    );
  update(1, 1, 'a');
  update(2, 2, "b'");
  update(1, 1, 'c');
  update(3, 4, 'd');
  update(5, 5, 'e');
  assert.deepEqual(text(dmlToStatements(list, target, true)), [
    "UPDATE `d`.`_t_del` SET `id` = CASE WHEN (`id` = 1) THEN 1 WHEN (`id` = 2) THEN 2 ELSE `id` END, `w` = CASE WHEN (`id` = 1) THEN 'a' WHEN (`id` = 2) THEN 'b\\'' ELSE `w` END WHERE (`id` = 1) OR (`id` = 2)",
    "UPDATE `d`.`_t_del` SET `id` = 1, `w` = 'c' WHERE `id` = 1",
    "UPDATE `d`.`_t_del` SET `id` = 4, `w` = 'd' WHERE `id` = 3",
    "UPDATE `d`.`_t_del` SET `id` = 5, `w` = 'e' WHERE `id` = 5",
  ]);
  // Ungrouped (after a duplicate key), or on keys that do not compare as in JavaScript: one by one.
  assert.equal(dmlToStatements(list, target).length, 5);
  const byString = { ...target, key: { name: 'PRIMARY', columns: ['id'], integer: [false] } };
  assert.equal(dmlToStatements(list, byString, true).length, 5);
});

test("the embedded worker's entries: one line for a person where one is due, the whole entry in the file without its task token", () => {
  const at = 1_796_313_153_000_000_000n;
  const chunk = {
    level: 'WARN',
    message: 'chunk retried',
    timestampNanos: at,
    meta: {
      taskToken: 'CiQw…',
      keys: '["1"]..["500"]',
      attempt: 1,
      error: 'Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction',
    },
  };
  assert.equal(
    noticeOf(chunk),
    'chunk ["1"]..["500"] retried after a deadlock (Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction)',
  );
  const line = logLine(chunk);
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one line');
  const parsed = JSON.parse(line);
  assert.equal(parsed.message, 'chunk retried');
  assert.equal(parsed.keys, '["1"]..["500"]');
  assert.equal(parsed.time, '2026-12-03T15:52:33.000Z');
  assert.ok(!('taskToken' in parsed));
  const retried = new Error('connect ECONNREFUSED 127.0.0.1:3306\n    at stack');
  assert.equal(
    noticeOf({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos: at,
      meta: { activityType: 'copyRows', attempt: 2, error: retried },
    }),
    'copyRows failed on attempt 2 and is retried: a lost connection (connect ECONNREFUSED 127.0.0.1:3306)',
  );
  assert.match(
    JSON.parse(logLine({ level: 'WARN', message: 'x', timestampNanos: at, meta: { error: retried } })).error.message,
    /ECONNREFUSED/,
  );
  const final = Object.assign(new Error('cannot log in'), { nonRetryable: true });
  assert.equal(
    noticeOf({ level: 'WARN', message: 'Activity failed', timestampNanos: at, meta: { error: final } }),
    undefined,
    'a failure that ends the migration is printed by the command itself',
  );
  assert.equal(noticeOf({ level: 'WARN', message: 'Workflow failed', timestampNanos: at }), undefined);
  assert.match(
    noticeOf({ ...chunk, meta: { ...chunk.meta, keys: 'null..["500"]' } }) ?? '',
    /^chunk start\.\.\["500"\] retried after a deadlock/,
  );
  assert.equal(noticeOf({ level: 'INFO', message: 'copy throttled: max-load', timestampNanos: at }), undefined);
  assert.equal(
    noticeOf({
      level: 'WARN',
      message: "copy: the workflow's settings could not be read (x)\nmore",
      timestampNanos: at,
    }),
    "copy: the workflow's settings could not be read (x)",
  );
  assert.match(
    workerLogFile({ REVENANT_HOME: '/h' }, new Date('2026-12-03T15:52:33Z')),
    /^\/h\/logs\/migrate-20261203-155233-\d+\.log$/,
  );
});

test('`set` takes what a start takes: every numeric setting within its field’s bounds in the input model', () => {
  const numeric = [
    ['chunk-size', 'chunkSize'],
    ['chunk-target-millis', 'chunkTargetMillis'],
    ['copy-threads', 'copyThreads'],
    ['dml-batch-size', 'dmlBatchSize'],
    ['max-lag-millis', 'maxLagMillis'],
    ['nice-ratio', 'niceRatio'],
  ] as const;
  for (const [flag, field] of numeric) {
    const spec = INPUT_FIELDS[field];
    assert.ok(spec.kind === 'integer' || spec.kind === 'number');
    assert.equal(validateChange({ [flag]: spec.max })[field], spec.max);
    assert.equal(validateChange({ [field]: String(spec.min) })[field], spec.min);
    assert.throws(
      () => validateChange({ [flag]: spec.min - 1 }),
      new RegExp(`^Error: ${flag} must be between ${spec.min} and ${spec.max}, got ${spec.min - 1}$`),
    );
    assert.throws(
      () => validateChange({ [flag]: 'x' }),
      new RegExp(`^Error: ${flag} must be a (whole )?number, got "x"$`),
    );
  }
  assert.throws(() => validateChange({ 'copy-threads': 2.5 }), /copy-threads must be a whole number, got 2\.5/);
  assert.equal(validateChange({ 'nice-ratio': '0.5' }).niceRatio, 0.5);
  assert.throws(
    () => validateChange({ speed: 1 }),
    /unknown setting speed \(settable: chunk-size, .*, force-cut-over-after, apply-threads\)/,
  );
});

test('progress reports: the shapes workers send are taken; any other is dropped', () => {
  const copy = { rowsCopied: 10, chunksCopied: 1, done: false, chunkSize: 10 };
  const apply = {
    eventsApplied: 5,
    position: { file: 'binlog.000001', position: 4, gtid: '0-1-5' },
    lagSeconds: 0.2,
    backlogBytes: 0,
  };
  const good: unknown[] = [
    { kind: 'copy', copy },
    { kind: 'copy', copy: { ...copy, rowsCounted: 99 } },
    { kind: 'apply', apply },
    { kind: 'resume', phase: 'copy', attempt: 2, redone: 0, checkpoint: 'chunk 4' },
    { kind: 'throttle', phase: 'apply', reason: 'max-lag-millis', apply },
    { kind: 'throttle', phase: 'copy', reason: null, copy },
  ];
  for (const r of good) assert.deepEqual(checkedReport(r), r, JSON.stringify(r));
  const bad: unknown[] = [
    null,
    7,
    [],
    { kind: 'copy' },
    { kind: 'copy', copy: { ...copy, rowsCopied: -1 } },
    { kind: 'copy', copy: { ...copy, rowsCopied: '10' } },
    { kind: 'copy', copy: { ...copy, done: 'no' } },
    { kind: 'apply', apply: { ...apply, position: { file: 'x', position: -4 } } },
    { kind: 'apply', apply: { ...apply, lagSeconds: Number.NaN } },
    { kind: 'resume', phase: 'cut-over', attempt: 1, redone: 0, checkpoint: 'x' },
    { kind: 'throttle', phase: 'copy', reason: { sql: 'DROP TABLE t' } },
    { kind: 'throttle', phase: 'copy', reason: 'x', copy: { rowsCopied: 1 } },
    { kind: 'drop-table' },
  ];
  for (const r of bad) assert.equal(checkedReport(r), undefined, JSON.stringify(r));
  assert.deepEqual(checkedReports([good[0], null, bad[4], good[2]]), [good[0], good[2]]);
  assert.deepEqual(checkedReports('not a list'), []);
});

test('a statement the server refuses as written fails at once, final, in its words; a lock wait is waited out', () => {
  const refused = Object.assign(new Error("Incorrect argument type to variable 'lock_wait_timeout'"), {
    errno: 1232,
    code: 'ER_WRONG_TYPE_FOR_VAR',
    sqlState: '42000',
    sqlMessage: "Incorrect argument type to variable 'lock_wait_timeout'",
    sql: 'SET SESSION lock_wait_timeout = NULL',
  });
  const failure = refusedStatementFailure(refused);
  assert.ok(failure?.nonRetryable);
  assert.equal(failure?.type, 'StatementRefused');
  assert.equal(
    failure?.message,
    "the server refuses a statement as written, and would each time: Error 1232 (42000): Incorrect argument type to variable 'lock_wait_timeout' (running: SET SESSION lock_wait_timeout = NULL)",
  );
  const opts = { defaultRetries: 60, lockBackoffMs: 100, what: 'x' };
  assert.throws(() => retryDelay(refused, 1, opts), /refuses a statement as written/, 'not retried even once');
  const deadlock = Object.assign(new Error('Deadlock found'), {
    errno: 1213,
    code: 'ER_LOCK_DEADLOCK',
    sqlState: '40001',
  });
  assert.equal(refusedStatementFailure(deadlock), undefined);
  assert.equal(retryDelay(deadlock, 2, opts), 200);
  // MariaDB 11.8's snapshot isolation ends a transaction so too: run again, as after a deadlock,
  // however few --default-retries (gh-ost's localtests give 3).
  const changed = Object.assign(new Error('Record has changed since last read'), {
    errno: 1020,
    code: 'ER_CHECKREAD',
    sqlState: 'HY000',
  });
  assert.equal(retryDelay(changed, 5, { ...opts, defaultRetries: 3 }), 500);
  const duplicate = Object.assign(new Error('Duplicate'), { errno: 1062, code: 'ER_DUP_ENTRY', sqlState: '23000' });
  assert.equal(refusedStatementFailure(duplicate), undefined, 'another statement error keeps its bounded retries');
  assert.ok(retryDelay(duplicate, 1, opts) > 0);
});

test('apply lag: told when it moves, crosses zero, or has not been told for a second', () => {
  assert.equal(lagWorthTelling(0, -1, 0), 0, 'the first word, even of no lag');
  assert.equal(lagWorthTelling(30, 0, 10), undefined, 'under the step: still 0');
  assert.equal(lagWorthTelling(0, 0, 999), undefined);
  assert.equal(lagWorthTelling(0, 0, 1000), 0, 'the same lag told again after a second');
  assert.equal(lagWorthTelling(120, 100, 10), undefined, 'a move under the step');
  assert.equal(lagWorthTelling(160, 100, 10), 160);
  assert.equal(lagWorthTelling(1100, 0, 10), 1100);
  assert.equal(lagWorthTelling(10, 400, 10), 0, 'down to 0 at once');
});
