// Every flag gh-ost defines, walked: each is accepted with an effect on what revenant does, or
// refused with its reason; none is unknown, and the few still accepted with no effect are
// named below, each with why. Pure: no server.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkFlags, FLAG_KINDS, migrateRequest, parseFlags, REFUSED_FLAGS, UsageError } from '../client/flags';

/** gh-ost 1.1.10's flags: go/cmd/gh-ost/main.go at commit 145799ee (108 flags). */
const GHOST_FLAGS = `aliyun-rds allow-master-master allow-nullable-unique-key allow-on-master allow-setup-metadata-lock-instruments
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
  'concurrent-rowcount': 'revenant counts (--exact-rowcount) before the copy; gh-ost\'s default counts beside it',
  'skip-foreign-key-checks': 'revenant\'s foreign key check is one query, made whatever this says',
  gtid: 'revenant resumes by GTID wherever the server has them',
  'checkpoint-seconds': 'revenant checkpoints with every chunk and batch',
  'cut-over': 'atomic, the value tried, is the default and only cut-over',
  'storage-engine': 'innodb, the value tried, is the default and only engine',
  'cut-over-exponential-backoff': 'true, the value tried, is what revenant always does',
};

const BASE = ['--database', 'd', '--table', 't', '--alter', 'ADD COLUMN x INT'];

function argsFor(flag: string, dir: string): string[] {
  const special: Record<string, string[]> = {
    alter: [], database: [], table: [],
    'cut-over': ['--cut-over', 'atomic'], 'storage-engine': ['--storage-engine', 'innodb'],
    'critical-load': ['--critical-load', 'Threads_running=500'], 'max-load': ['--max-load', 'Threads_running=50'],
    'throttle-query': ['--throttle-query', 'SELECT 0'], 'assume-master-host': ['--assume-master-host', 'db1:3306'],
    'throttle-control-replicas': ['--throttle-control-replicas', 'db2:3306'],
    'trigger-suffix': ['--include-triggers', '--trigger-suffix', '_x'], 'remove-trigger-suffix-if-exists': ['--include-triggers', '--remove-trigger-suffix-if-exists'],
    revert: ['--revert', '--old-table', '_t_del'], 'old-table': ['--revert', '--old-table', '_t_del'],
    conf: ['--conf', join(dir, 'gh-ost.conf')], port: ['--port', '3307'], 'chunk-size': ['--chunk-size', '500'],
    'cut-over-lock-timeout-seconds': ['--cut-over-lock-timeout-seconds', '5'], 'dml-batch-size': ['--dml-batch-size', '20'],
    'default-retries': ['--default-retries', '5'], 'heartbeat-interval-millis': ['--heartbeat-interval-millis', '200'],
    'max-lag-millis': ['--max-lag-millis', '2000'], 'serve-tcp-port': ['--serve-tcp-port', '9000'],
    'throttle-http': ['--throttle-http', 'http://127.0.0.1:9/throttle'], 'throttle-http-interval-millis': ['--throttle-http-interval-millis', '200'],
    'throttle-http-timeout-millis': ['--throttle-http-timeout-millis', '500'],
  };
  if (special[flag]) return special[flag];
  const kind = FLAG_KINDS[flag] ?? REFUSED_FLAGS[flag]?.kind;
  return kind === 'bool' ? [`--${flag}`] : [`--${flag}`, kind === 'string' ? 'x' : '7'];
}

/** Everything a parsed command line decides, to compare with the baseline's. */
const decided = (argv: string[]) => JSON.stringify(migrateRequest(parseFlags(argv), {}));

test('every gh-ost flag is accepted with an effect, or refused with its reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-flags-'));
  writeFileSync(join(dir, 'gh-ost.conf'), '[client]\nuser = ${RV_CONF_USER}\npassword = "s3cret"\n[osc]\nchunk_size = 250\nmax_lag_millis=3000\n');
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
      assert.match(e.message, new RegExp(`--${flag}\\S* is not supported by revenant: .{20,}`), `--${flag} is refused with a reason: ${e.message}`);
      outcome[flag] = 'refused';
      continue;
    }
    if (['alter', 'database', 'table'].includes(flag)) { outcome[flag] = 'effect'; continue; }
    if (result === baseline) {
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
  writeFileSync(conf, '# gh-ost\n[client]\nuser = ${RV_CONF_USER}\npassword = "s3cret"\n\n[osc]\nchunk_size = 250\nmax_load = Threads_running=30\nmax_lag_millis=3000\n');
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
  assert.throws(() => migrateRequest(parseFlags([...BASE, '--conf', conf]), {}), /replication_lag_query is not supported by revenant/);
  assert.throws(() => migrateRequest(parseFlags([...BASE, '--conf', join(dir, 'none.conf')]), {}), /--conf .*none\.conf: ENOENT/);
});

test('--check-flag names the flags revenant refuses; the cloud flags skip the port check', () => {
  assert.deepEqual(checkFlags(['--cut-over-lock-timeout-seconds', '5', '--nice-ratio', '0']), []);
  const refused = checkFlags(['--nice-ratio', '0', '--ssl', '--tungsten']);
  assert.equal(refused.length, 2);
  assert.match(refused[0], /^--ssl: /);
  assert.throws(() => checkFlags(['--no-such-flag']), /unknown flag --no-such-flag/);
  for (const f of ['skip-port-validation', 'aliyun-rds', 'gcp', 'azure']) assert.equal(migrateRequest(parseFlags([...BASE, `--${f}`]), {}).input.skipPortValidation, true);
  assert.equal(migrateRequest(parseFlags(BASE), {}).input.skipPortValidation, undefined);
  assert.throws(() => migrateRequest(parseFlags([...BASE, '--cut-over', 'two-step']), {}), /--cut-over=two-step is not supported by revenant: its cut-over is gh-ost's atomic one/);
});
