// Every flag gh-ost defines, walked: each is accepted with an effect on what revenant does, or
// refused with its reason; none is unknown, and the few still accepted with no effect are
// named below, each with why. Pure: no server.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { credentialsFromEnvironment } from '../../mysql/credentials';
import { checkFlags, FLAG_KINDS, migrateRequest, parseFlags, REFUSED_FLAGS, UsageError } from '../../client/flags';
import { migrateHelp } from '../../client/help';
import { FLAG_TABLE } from '../../client/flag-table';
import { SETTING_TABLE, settingsFrom, settingsText, validateChange } from '../../model/settings';
import { INPUT_FIELDS } from '../../model/migration-input';
import { failureText, type Thrown } from '../support/helpers';

/** gh-ost 1.1.10's flags: go/cmd/gh-ost/main.go at commit 145799ee (108 flags). */
const GHOST_FLAGS =
  `aliyun-rds allow-master-master allow-nullable-unique-key allow-on-master allow-setup-metadata-lock-instruments
allow-zero-in-date alter analyze-ghost-table-before-cutover approve-renamed-columns ask-pass assume-master-host assume-rbr
attempt-instant-ddl azure binlogsyncer-max-reconnect-attempts charset check-flag checkpoint checkpoint-seconds chunk-size
concurrent-rowcount conf critical-load critical-load-hibernate-seconds critical-load-interval-millis cut-over
cut-over-exponential-backoff cut-over-lock-timeout-seconds database debug default-retries discard-foreign-keys dml-batch-size
exact-rowcount execute exponential-backoff-max-interval force-named-cut-over force-named-panic force-table-names gcp gtid
heartbeat-interval-millis help hooks-hint hooks-hint-owner hooks-hint-token hooks-path hooks-status-interval host
ignore-http-errors include-triggers initially-drop-ghost-table initially-drop-old-table initially-drop-socket-file
master-password master-user max-lag-millis max-load migrate-on-replica mysql-timeout nice-ratio ok-to-drop-table old-table
panic-flag-file panic-on-warnings password port postpone-cut-over-flag-file quiet remove-trigger-suffix-if-exists
replica-server-id replication-lag-query resume revert runtime-metrics-interval serve-socket-file serve-tcp-port
skip-foreign-key-checks skip-metadata-lock-check skip-port-validation skip-renamed-columns skip-strict-mode ssl
ssl-allow-insecure ssl-ca ssl-cert ssl-key stack statsd-addr statsd-tags storage-engine switch-to-rbr table test-on-replica
test-on-replica-skip-replica-stop throttle-additional-flag-file throttle-control-replicas throttle-flag-file throttle-http
throttle-http-interval-millis throttle-http-timeout-millis throttle-query timestamp-old-table trigger-suffix tungsten user
verbose version`.split(/\s+/);

/** Handled by the command before a migration is requested (client/cli.ts main). */
const COMMAND_FLAGS = ['help', 'version', 'check-flag'];

/** Still accepted without an effect of their own, and why (to be given one, or refused). */
const NO_EFFECT: Record<string, string> = {
  'concurrent-rowcount':
    'true, the value tried, is the default: --exact-rowcount counts while the copy runs (=false counts first)',
  gtid: 'revenant resumes by GTID wherever the server has them',
  'checkpoint-seconds': 'revenant checkpoints with every chunk and batch',
  'cut-over': 'atomic, the value tried, is the default and only cut-over',
  'storage-engine': 'innodb, the value tried, is the default and only engine',
  'cut-over-exponential-backoff': 'true, the value tried, is what revenant always does',
};

const BASE = ['--database', 'd', '--table', 't', '--alter', 'ADD COLUMN x INT'];

/** Flags that need another flag given with them, and that other flag's own arguments. */
const NEEDS: Record<string, string[]> = {
  'ssl-ca': ['--ssl'],
  'ssl-allow-insecure': ['--ssl'],
  'ssl-cert': ['--ssl'],
  'ssl-key': ['--ssl'],
  'master-user': ['--assume-master-host', 'db1'],
  'master-password': ['--assume-master-host', 'db1'],
  'test-on-replica-skip-replica-stop': ['--test-on-replica'],
};

function argsFor(flag: string, dir: string): string[] {
  const special: Record<string, string[]> = {
    alter: [],
    database: [],
    table: [],
    'cut-over': ['--cut-over', 'atomic'],
    'storage-engine': ['--storage-engine', 'innodb'],
    'critical-load': ['--critical-load', 'Threads_running=500'],
    'max-load': ['--max-load', 'Threads_running=50'],
    'throttle-query': ['--throttle-query', 'SELECT 0'],
    'assume-master-host': ['--assume-master-host', 'db1:3306'],
    'throttle-control-replicas': ['--throttle-control-replicas', 'db2:3306'],
    'trigger-suffix': ['--include-triggers', '--trigger-suffix', '_x'],
    'remove-trigger-suffix-if-exists': ['--include-triggers', '--remove-trigger-suffix-if-exists'],
    revert: ['--revert', '--old-table', '_t_del'],
    'old-table': ['--revert', '--old-table', '_t_del'],
    conf: ['--conf', join(dir, 'gh-ost.conf')],
    port: ['--port', '3307'],
    'chunk-size': ['--chunk-size', '500'],
    'cut-over-lock-timeout-seconds': ['--cut-over-lock-timeout-seconds', '5'],
    'dml-batch-size': ['--dml-batch-size', '20'],
    'default-retries': ['--default-retries', '5'],
    'heartbeat-interval-millis': ['--heartbeat-interval-millis', '200'],
    'max-lag-millis': ['--max-lag-millis', '2000'],
    'serve-tcp-port': ['--serve-tcp-port', '9000'],
    'throttle-http': ['--throttle-http', 'http://127.0.0.1:9/throttle'],
    'throttle-http-interval-millis': ['--throttle-http-interval-millis', '200'],
    'throttle-http-timeout-millis': ['--throttle-http-timeout-millis', '500'],
    'ssl-ca': ['--ssl', '--ssl-ca', '/etc/ca.pem'],
    'ssl-cert': ['--ssl', '--ssl-cert', '/etc/c.pem', '--ssl-key', '/etc/k.pem'],
    'ssl-key': ['--ssl', '--ssl-cert', '/etc/c.pem', '--ssl-key', '/etc/k.pem'],
    'ssl-allow-insecure': ['--ssl', '--ssl-allow-insecure'],
    'master-user': ['--assume-master-host', 'db1', '--master-user', 'm'],
    'master-password': ['--assume-master-host', 'db1', '--master-password', 'p'],
    'test-on-replica-skip-replica-stop': ['--test-on-replica', '--test-on-replica-skip-replica-stop'],
  };
  if (special[flag]) return special[flag];
  const kind = FLAG_KINDS[flag] ?? REFUSED_FLAGS[flag]?.kind;
  return kind === 'bool' ? [`--${flag}`] : [`--${flag}`, kind === 'string' ? 'x' : '7'];
}

/** Everything a parsed command line decides, to compare with the baseline's. */
const decided = (argv: string[]) => JSON.stringify(migrateRequest(parseFlags(argv), {}));

test('every gh-ost flag is accepted with an effect, or refused with its reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-flags-'));
  writeFileSync(
    join(dir, 'gh-ost.conf'),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: gh-ost's config expands ${VAR} itself.
    '[client]\nuser = ${RV_CONF_USER}\npassword = "s3cret"\n[osc]\nchunk_size = 250\nmax_lag_millis=3000\n',
  );
  assert.equal(GHOST_FLAGS.length, 108);
  const baseline = decided(BASE);
  const outcome: Record<string, string> = {};
  for (const flag of GHOST_FLAGS) {
    if (COMMAND_FLAGS.includes(flag)) {
      assert.ok(FLAG_KINDS[flag], `--${flag} is known`);
      outcome[flag] = 'command';
      continue;
    }
    const argv = [...BASE, ...argsFor(flag, dir)];
    let result: string;
    try {
      result = decided(argv);
    } catch (e) {
      assert.ok(e instanceof UsageError, `--${flag}: ${(e as Error).message}`);
      assert.doesNotMatch(e.message, /unknown flag/, `--${flag} is not unknown`);
      assert.match(
        e.message,
        new RegExp(`--${flag}\\S* is not supported by revenant: .{20,}`),
        `--${flag} is refused with a reason: ${e.message}`,
      );
      outcome[flag] = 'refused';
      continue;
    }
    if (['alter', 'database', 'table'].includes(flag)) {
      outcome[flag] = 'effect';
      continue;
    }
    // A flag that needs another (--ssl-ca needs --ssl) is compared with that other one alone.
    const needs = NEEDS[flag];
    if (needs && result === decided([...BASE, ...needs])) {
      assert.ok(NO_EFFECT[flag], `--${flag} is accepted but changes nothing beyond ${needs.join(' ')}`);
      outcome[flag] = 'no effect';
    } else if (result === baseline) {
      assert.ok(NO_EFFECT[flag], `--${flag} is accepted but changes nothing`);
      outcome[flag] = 'no effect';
    } else {
      assert.ok(!NO_EFFECT[flag], `--${flag} has an effect now: take it off NO_EFFECT`);
      outcome[flag] = 'effect';
    }
  }
  const count = (what: string) => Object.values(outcome).filter((o) => o === what).length;
  assert.equal(count('no effect'), Object.keys(NO_EFFECT).length);
  assert.equal(count('effect') + count('refused') + count('no effect') + count('command'), 108);
});

test('--conf: [client] user and password (from the environment too) and [osc] settings, under the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-conf-'));
  const conf = join(dir, 'gh-ost.conf');
  writeFileSync(
    conf,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: gh-ost's config expands ${VAR} itself.
    '# gh-ost\n[client]\nuser = ${RV_CONF_USER}\npassword = "s3cret"\n\n[osc]\nchunk_size = 250\nmax_load = Threads_running=30\nmax_lag_millis=3000\n',
  );
  const r = migrateRequest(parseFlags([...BASE, '--conf', conf]), { RV_CONF_USER: 'ghost' });
  assert.equal(r.input.server.user, 'ghost');
  assert.equal(r.password, 's3cret');
  assert.ok(!JSON.stringify(r.input).includes('s3cret'), 'the password never enters the workflow input');
  assert.equal(r.input.chunkSize, 250);
  assert.equal(r.input.maxLoad, 'Threads_running=30');
  assert.equal(r.input.maxLagMillis, 3000);
  const over = migrateRequest(parseFlags([...BASE, '--conf', conf, '--user', 'u2', '--chunk-size', '900']), {});
  assert.deepEqual([over.input.server.user, over.input.chunkSize], ['u2', 900]);
  writeFileSync(conf, '[osc]\nreplication_lag_query = SELECT 1\n');
  assert.throws(
    () => migrateRequest(parseFlags([...BASE, '--conf', conf]), {}),
    /replication_lag_query is not supported by revenant/,
  );
  assert.throws(
    () => migrateRequest(parseFlags([...BASE, '--conf', join(dir, 'none.conf')]), {}),
    /--conf .*none\.conf: ENOENT/,
  );
});

test('--check-flag names the flags revenant refuses; the cloud flags skip the port check', () => {
  assert.deepEqual(checkFlags(['--cut-over-lock-timeout-seconds', '5', '--nice-ratio', '0']), []);
  const refused = checkFlags(['--nice-ratio', '0', '--stack', '--tungsten']);
  assert.equal(refused.length, 2);
  assert.match(refused[0], /^--stack: /);
  assert.throws(() => checkFlags(['--no-such-flag']), /unknown flag --no-such-flag/);
  for (const f of ['skip-port-validation', 'aliyun-rds', 'gcp', 'azure'])
    assert.equal(migrateRequest(parseFlags([...BASE, `--${f}`]), {}).input.skipPortValidation, true);
  assert.equal(migrateRequest(parseFlags(BASE), {}).input.skipPortValidation, undefined);
  assert.throws(
    () => migrateRequest(parseFlags([...BASE, '--cut-over', 'two-step']), {}),
    /--cut-over=two-step is not supported by revenant: its cut-over is gh-ost's atomic one/,
  );
});

test('--ssl…, --master-user/--master-password, --mysql-timeout: what they need, and where each goes', () => {
  const req = (...a: string[]) => migrateRequest(parseFlags([...BASE, ...a]), {});
  for (const f of ['--ssl-ca=/ca.pem', '--ssl-allow-insecure'])
    assert.throws(() => req(f), new RegExp(`${f.replace(/=.*/, '')} requires --ssl`));
  assert.throws(() => req('--ssl', '--ssl-cert', '/c.pem'), /--ssl-cert and --ssl-key go together/);
  assert.throws(() => req('--master-user', 'm'), /--master-user requires --assume-master-host/);
  assert.throws(() => req('--master-password', 'p'), /--master-password requires --assume-master-host/);
  assert.throws(() => req('--test-on-replica-skip-replica-stop'), /requires --test-on-replica/);
  assert.throws(() => req('--mysql-timeout', '100000'), /--mysql-timeout takes seconds between 0 and 86400/);
  const r = req(
    '--ssl',
    '--ssl-ca',
    '/ca.pem',
    '--ssl-cert',
    '/c.pem',
    '--ssl-key',
    '/k.pem',
    '--mysql-timeout',
    '2.5',
    '--assume-master-host',
    'db1:3307',
    '--master-user',
    'boss',
    '--master-password',
    'm4ster',
    '--password',
    'r3plica',
  );
  assert.deepEqual(r.input.server.tls, { ca: '/ca.pem', cert: '/c.pem', key: '/k.pem' });
  assert.equal(r.input.server.timeoutSeconds, 2.5);
  assert.equal(r.input.masterUser, 'boss');
  assert.equal(r.masterPassword, 'm4ster');
  assert.ok(!/m4ster|r3plica/.test(JSON.stringify(r.input)), 'no password enters the workflow input');
  assert.equal(req('--mysql-timeout', '0').input.server.timeoutSeconds, undefined, '0: no limit, as gh-ost');
  assert.deepEqual(req('--ssl').input.server.tls, {}, "--ssl alone: TLS, verified against the system's CAs");
});

test("the master's password goes to the master only; --ssl paths are read on the worker, a missing one refused", () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'PEM');
  const resolve = credentialsFromEnvironment(
    {},
    { password: 'r3plica', byServer: { 'db1:3307': { password: 'm4ster' } } },
  );
  assert.equal(resolve({ host: 'db1', port: 3307, user: 'boss' }).password, 'm4ster');
  assert.equal(resolve({ host: 'db2', port: 3306 }).password, 'r3plica');
  assert.equal(resolve({ host: 'db1', port: 3306 }).password, 'r3plica');
  const tls = resolve({ host: 'db2', port: 3306, tls: { ca: join(dir, 'ca.pem') } }).ssl;
  assert.deepEqual(tls, { ca: 'PEM', cert: undefined, key: undefined, rejectUnauthorized: true, verifyIdentity: true });
  assert.equal(resolve({ host: 'db2', port: 3306, tls: { allowInsecure: true } }).ssl?.rejectUnauthorized, false);
  assert.throws(
    () => resolve({ host: 'db2', port: 3306, tls: { ca: join(dir, 'none.pem') } }),
    (e: unknown) =>
      (e as Thrown).nonRetryable === true &&
      /--ssl: cannot read TLS file .*none\.pem on this worker/.test(failureText(e)),
  );
});

test("--help: every flag, gh-ost's and revenant's, once, with its meaning; the refused ones with their reasons", () => {
  const listed = FLAG_TABLE.flatMap((g) => g.flags.map((f) => f.name));
  assert.deepEqual(
    listed.filter((f, i) => listed.indexOf(f) !== i),
    [],
    'no flag listed twice',
  );
  assert.deepEqual(
    Object.keys(FLAG_KINDS).filter((f) => !listed.includes(f)),
    [],
    'every accepted flag has its meaning',
  );
  assert.deepEqual(
    listed.filter((f) => !FLAG_KINDS[f]),
    [],
    'no meaning for a flag that does not exist',
  );
  for (const { flags } of FLAG_TABLE)
    for (const { name, help } of flags) assert.ok(help.length >= 10, `--${name}: "${help}"`);
  const text = migrateHelp();
  for (const f of [...Object.keys(FLAG_KINDS), ...Object.keys(REFUSED_FLAGS)])
    assert.match(text, new RegExp(`^  --${f}\\b`, 'm'));
  assert.match(text, /^ {2}--ssl-ca string\n {6}CA certificate/m);
});

test('the flag table: each flag once; those it marks settable are exactly the settings set takes', () => {
  const names = FLAG_TABLE.flatMap((g) => g.flags.map((f) => f.name));
  assert.equal(new Set(names).size, names.length, 'no flag declared twice');
  const settable = FLAG_TABLE.flatMap((g) => g.flags.filter((f) => f.settable).map((f) => f.name)).sort();
  assert.deepEqual(settable, SETTING_TABLE.map((row) => row.flag).sort());
  assert.ok(settable.includes('max-lag-millis') && settable.includes('chunk-size'), `settable: ${settable}`);
});

test('a settable flag is one row: the flag, the input field, set, the settings line and --help follow it', () => {
  const samples: Record<string, number | string> = {
    thresholds: 'Threads_running=5',
    select: 'SELECT 0',
    url: 'http://127.0.0.1:1/',
  };
  const help = migrateHelp();
  for (const row of SETTING_TABLE) {
    const sample = 'max' in row ? row.max : samples[row.kind];
    const input = migrateRequest(parseFlags([...BASE, `--${row.flag}`, String(sample)]), {}).input;
    assert.equal((input as unknown as Record<string, unknown>)[row.field], sample, `--${row.flag} sets ${row.field}`);
    assert.ok(row.field in INPUT_FIELDS, `${row.field} is an input field`);
    assert.equal(validateChange({ [row.flag]: sample })[row.field], sample, `set ${row.flag}`);
    assert.equal(validateChange({ [row.field]: sample })[row.field], sample, `set ${row.field}`);
    const settings = { ...settingsFrom({ ...input, [row.field]: sample }), paused: false, version: 1 };
    assert.match(settingsText(settings), new RegExp(`\\b${row.flag}=`), `the settings line shows ${row.flag}`);
    assert.match(help, new RegExp(`^  --${row.flag} \\w+   \\[settable while running\\]$`, 'm'));
    if ('max' in row)
      assert.throws(
        () => migrateRequest(parseFlags([...BASE, `--${row.flag}`, String(row.max + 1)]), {}),
        new RegExp(`--${row.flag} must be between ${row.min} and ${row.max}`),
      );
  }
});
