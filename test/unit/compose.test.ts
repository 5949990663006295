// docker-compose.yml and the Dockerfile, checked as files (no Docker engine runs here): the
// services revenant needs, MySQL set up for it, the search attributes registered, workers
// configured only through what the worker reads, and an image that downloads nothing at
// run time. scripts/cluster.sh runs the same shape without Docker: where the two must agree
// (Temporal's version and nodes, the search attributes, how workers are configured), checked here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { TEMPORAL_VARIABLES } from '../../worker/temporal-connection';
import { ROOT } from '../support/paths';

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
const services: Record<string, any> = compose.services;

const cluster = readFileSync(join(ROOT, 'scripts', 'cluster.sh'), 'utf8');

test('compose: the services, with images, ports and healthchecks', () => {
  for (const name of [
    'mysql',
    'mysql-replica',
    'postgresql',
    'temporal-1',
    'temporal-2',
    'temporal-frontend',
    'temporal-ui',
    'temporal-search-attributes',
    'worker-1',
    'worker-2',
  ]) {
    assert.ok(services[name], `service ${name}`);
  }
  for (const name of ['mysql', 'mysql-replica']) {
    assert.equal(services[name].image, 'mysql:8.4');
    for (const flag of [
      '--log-bin=binlog',
      '--binlog-row-image=FULL',
      '--gtid-mode=ON',
      '--enforce-gtid-consistency=ON',
      '--binlog-transaction-compression=OFF',
    ]) {
      assert.ok(services[name].command.includes(flag), `${name} ${flag}`);
    }
  }
  assert.match(
    services['mysql-grants'].entrypoint.join(' '),
    /-h mysql-replica .*SOURCE_HOST = 'mysql'.*SOURCE_AUTO_POSITION = 1/s,
    'the replica follows the master by GTID',
  );
  // revenant's user has gh-ost's grants, never ALL.
  const grants = services['mysql-grants'].entrypoint.join(' ');
  assert.doesNotMatch(grants, /GRANT ALL/i);
  assert.match(
    grants,
    /GRANT ALTER, CREATE, DELETE, DROP, INDEX, INSERT, LOCK TABLES,\s+SELECT, TRIGGER, UPDATE ON shop\.\*/,
  );
  assert.match(grants, /GRANT REPLICATION CLIENT, REPLICATION SLAVE, PROCESS ON \*\.\*/);
  assert.match(grants, /GRANT SELECT ON performance_schema\.\*/);
  for (const name of [
    'mysql',
    'mysql-replica',
    'postgresql',
    'temporal-1',
    'temporal-2',
    'temporal-frontend',
    'temporal-ui',
    'worker-1',
    'worker-2',
  ]) {
    assert.ok(services[name].image ?? services[name].build, `${name} image`);
    assert.ok(services[name].healthcheck?.test, `${name} healthcheck`);
  }
  for (const name of ['temporal-frontend', 'temporal-ui', 'worker-1', 'worker-2'])
    assert.ok(services[name].ports?.length, `${name} ports`);
  assert.equal(
    services['worker-1'].depends_on['temporal-search-attributes'].condition,
    'service_completed_successfully',
  );
});

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

test('compose: secure as shipped (mTLS, loopback ports, no database port, no password in the repository)', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const port of (service.ports ?? []) as string[])
      assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${port} on the host's loopback only`);
  }
  for (const name of ['mysql', 'mysql-replica', 'postgresql'])
    assert.equal(services[name].ports, undefined, `${name}: no database port published`);
  // The MySQL image grants MYSQL_USER ALL on MYSQL_DATABASE: revenant's account is made by hand.
  assert.equal(services.mysql.environment.MYSQL_USER, undefined);
  assert.doesNotMatch(composeText, /PASSWORD:-/, 'no default password');
  assert.doesNotMatch(composeText, /\.example\.json/, 'no credentials file in the repository');
  for (const node of ['temporal-1', 'temporal-2']) {
    const env = services[node].environment;
    assert.equal(env.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH, 'true', `${node} requires client certificates`);
    for (const k of ['TEMPORAL_TLS_SERVER_CERT', 'TEMPORAL_TLS_FRONTEND_CERT', 'TEMPORAL_TLS_CLIENT1_CA_CERT'])
      assert.ok(env[k], `${node}: ${k}`);
    assert.equal(services[node].depends_on['temporal-certs'].condition, 'service_completed_successfully');
  }
  assert.match(services['temporal-certs'].entrypoint.join(' '), /make-certs\.sh \/tls/);
  assert.ok(services['temporal-ui'].environment.TEMPORAL_TLS_CERT, 'the UI reaches Temporal with a certificate');
  assert.ok(services['temporal-search-attributes'].environment.TEMPORAL_TLS_CLIENT_CERT_PATH);
  const profile = readFileSync(join(ROOT, 'scripts', 'cluster', 'temporal-compose.toml'), 'utf8');
  assert.match(profile, /\[profile\.cluster\.tls\]\nclient_cert_path = "\/etc\/revenant\/tls\/worker\.pem"/);
  // scripts/cluster.sh: the same mTLS, and its workers' MySQL account is not ALL.
  assert.match(
    cluster,
    /internode: &mtls\n\s+server:\n(.*\n){2}\s+requireClientAuth: true\n/,
    'cluster.sh: internode mTLS',
  );
  assert.match(cluster, /frontend: \*mtls\n/, 'cluster.sh: the frontend, the same');
  assert.match(cluster, /make-certs\.sh "\$TLS"/);
  assert.match(
    cluster,
    /MIGRATOR_GRANTS="ALTER, CREATE, DELETE, DROP, INDEX, INSERT, LOCK TABLES, SELECT, TRIGGER, UPDATE,/,
  );
});

test('compose and scripts/cluster.sh: the same Temporal cluster (version, two nodes on PostgreSQL, one frontend address)', () => {
  const version = /^TEMPORAL_VERSION=(\S+)$/m.exec(cluster)?.[1];
  assert.ok(version, 'cluster.sh names the Temporal version it builds');
  for (const node of ['temporal-1', 'temporal-2']) {
    assert.equal(services[node].image, `temporalio/server:${version}`);
    assert.equal(services[node].environment.DB, 'postgres12');
    assert.equal(services[node].environment.POSTGRES_SEEDS, 'postgresql');
    assert.equal(services[node].environment.PUBLIC_FRONTEND_ADDRESS, 'temporal-frontend:7233');
  }
  assert.match(
    services['temporal-schema'].image,
    new RegExp(`:${version!.replace(/\./g, '\\.')}$`),
    'the schema tool of the same version',
  );
  assert.match(cluster, /pluginName: postgres12/);
  const lb = readFileSync(join(ROOT, 'scripts', 'cluster', 'haproxy-compose.cfg'), 'utf8');
  assert.match(lb, /server node1 temporal-1:7233 check/);
  assert.match(lb, /server node2 temporal-2:7233 check/);
  assert.match(cluster, /server node1 127\.0\.0\.1:\$\(node_port 1 0\) check/);
  assert.match(cluster, /server node2 127\.0\.0\.1:\$\(node_port 2 0\) check/);
});

test('compose and scripts/cluster.sh: the namespace and search attributes registered as the workflow defines them', () => {
  const script = services['temporal-search-attributes'].entrypoint.join(' ');
  assert.match(script, /namespace create --namespace default/);
  assert.match(cluster, /namespace create --namespace default/);
  for (const key of Object.values(SEARCH_ATTRIBUTES)) {
    const type = key.type === 'KEYWORD' ? 'Keyword' : 'Double';
    assert.ok(script.includes(`${key.name}:${type}`), `compose: ${key.name}:${type} registered`);
    assert.ok(cluster.includes(`--name ${key.name} --type ${type}`), `cluster.sh: ${key.name}:${type} registered`);
  }
});

test('compose: two workers, configured only through variables the worker reads, as cluster.sh configures its own', () => {
  const sources = ['worker/worker.ts', 'worker/telemetry.ts', 'client/cli.ts', 'mysql/credentials.ts']
    .map((f) => readFileSync(join(ROOT, f), 'utf8'))
    .join('\n');
  for (const w of ['worker-1', 'worker-2']) {
    assert.equal(services[w].build, '.');
    assert.deepEqual(services[w].command, ['worker']);
    for (const key of Object.keys(services[w].environment)) {
      if ((TEMPORAL_VARIABLES as readonly string[]).includes(key)) continue; // read by @temporalio/envconfig
      assert.match(sources, new RegExp(`env\\.${key}\\b`), `${w}: ${key} is read by the worker`);
    }
    assert.equal(services[w].environment.REVENANT_METRICS_ADDRESS, '0.0.0.0:9464');
    assert.match(services[w].healthcheck.test.join(' '), /127\.0\.0\.1:9464\/metrics/);
    // Temporal from an envconfig profile, the MySQL login from a REVENANT_CONFIG secret: no password in the environment.
    assert.equal(services[w].environment.TEMPORAL_PROFILE, 'cluster');
    assert.ok(
      services[w].volumes.some((v: string) => v.endsWith(`:${services[w].environment.TEMPORAL_CONFIG_FILE}:ro`)),
    );
    assert.equal(services[w].environment.REVENANT_CONFIG, '/run/secrets/revenant-worker');
    assert.ok(
      !Object.keys(services[w].environment).some((k) => /PASSWORD/.test(k)),
      `${w}: no password in the environment`,
    );
  }
  assert.match(
    readFileSync(join(ROOT, 'scripts', 'cluster', 'temporal-compose.toml'), 'utf8'),
    /\[profile\.cluster\]\naddress = "temporal-frontend:7233"/,
  );
  for (const v of [
    'TEMPORAL_CONFIG_FILE=',
    'TEMPORAL_PROFILE=cluster',
    'REVENANT_CONFIG=',
    'REVENANT_METRICS_ADDRESS=',
  ])
    assert.ok(cluster.includes(v), `cluster.sh's workers: ${v}`);
});

test('Dockerfile: everything installed and built at build time', () => {
  const docker = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const runs = docker.split('\n').filter((l) => l.startsWith('RUN '));
  for (const r of runs)
    assert.match(r, /^RUN (npm install --no-audit --no-fund --loglevel=error|npm run build && npm prune --omit=dev)$/);
  assert.match(docker, /ENTRYPOINT \["node", "bin\/revenant\.js"\]\nCMD \["worker"\]/);
  assert.doesNotMatch(docker, /curl|wget|npx /);
});
