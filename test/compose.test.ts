// docker-compose.yml and the Dockerfile, checked as files (no Docker engine runs here): the
// services revenant needs, MySQL set up for it, the search attributes registered, workers
// configured only through what the worker reads, and an image that downloads nothing at
// run time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { TEMPORAL_VARIABLES } from '../worker/temporal-connection';

const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
const services: Record<string, any> = compose.services;

test('compose: the services, with images, ports and healthchecks', () => {
  for (const name of ['mysql', 'postgresql', 'temporal', 'temporal-ui', 'temporal-search-attributes', 'worker-1', 'worker-2']) {
    assert.ok(services[name], `service ${name}`);
  }
  assert.equal(services.mysql.image, 'mysql:8.4');
  for (const flag of ['--log-bin=binlog', '--binlog-row-image=FULL', '--gtid-mode=ON', '--enforce-gtid-consistency=ON', '--binlog-transaction-compression=OFF']) {
    assert.ok(services.mysql.command.includes(flag), `mysql ${flag}`);
  }
  assert.equal(services.temporal.environment.DB, 'postgres12');
  assert.equal(services.temporal.environment.POSTGRES_SEEDS, 'postgresql');
  for (const name of ['mysql', 'postgresql', 'temporal', 'temporal-ui', 'worker-1', 'worker-2']) {
    assert.ok(services[name].image ?? services[name].build, `${name} image`);
    assert.ok(services[name].ports?.length, `${name} ports`);
    assert.ok(services[name].healthcheck?.test, `${name} healthcheck`);
  }
  assert.equal(services['worker-1'].depends_on.temporal.condition, 'service_healthy');
});

test('compose: search attributes registered as the workflow defines them', () => {
  const script = services['temporal-search-attributes'].entrypoint.join(' ');
  for (const key of Object.values(SEARCH_ATTRIBUTES)) {
    const type = key.type === 'KEYWORD' ? 'Keyword' : 'Double';
    assert.ok(script.includes(`${key.name}:${type}`), `${key.name}:${type} registered`);
  }
});

test('compose: two workers, configured only through variables the worker reads', () => {
  const sources = ['worker/worker.ts', 'worker/telemetry.ts', 'client/cli.ts', 'activities/credentials.ts'].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
  for (const w of ['worker-1', 'worker-2']) {
    assert.equal(services[w].build, '.');
    assert.deepEqual(services[w].command, ['worker']);
    for (const key of Object.keys(services[w].environment)) {
      if ((TEMPORAL_VARIABLES as readonly string[]).includes(key)) continue; // read by @temporalio/envconfig
      assert.match(sources, new RegExp(`env\\.${key}\\b`), `${w}: ${key} is read by the worker`);
    }
    assert.equal(services[w].environment.REVENANT_METRICS_ADDRESS, '0.0.0.0:9464');
    assert.match(services[w].healthcheck.test.join(' '), /127\.0\.0\.1:9464\/metrics/);
    assert.equal(services[w].environment.TEMPORAL_ADDRESS, 'temporal:7233');
  }
});

test('Dockerfile: everything installed and built at build time', () => {
  const docker = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const runs = docker.split('\n').filter((l) => l.startsWith('RUN '));
  for (const r of runs) assert.match(r, /^RUN (npm install --no-audit --no-fund --loglevel=error|npm run build && npm prune --omit=dev)$/);
  assert.match(docker, /ENTRYPOINT \["node", "bin\/revenant\.js"\]\nCMD \["worker"\]/);
  assert.doesNotMatch(docker, /curl|wget|npx /);
});
