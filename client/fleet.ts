// `revenant migrate --fleet FILE`: the fleet file, read and checked before anything starts,
// and the fleet's status as the command line prints it. The workflow is workflows/fleet.ts.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { LIST_SEPARATOR, UsageError, type MigrateRequest } from './flags';
import type { FleetInput, FleetServerSpec, FleetStatus, ServerRef, TableAlter } from '../model/types';
import { FLEET_DEFAULTS } from '../model/fleet-input';

// Loaded only for a YAML fleet file: every other command line starts without it (13 ms).
const parseYaml = (text: string): unknown => (require('yaml') as typeof import('yaml')).parse(text);

/** The fleet file: {"targets": [{"host", "port", "databases": "shard_%" | [names], "table"?, "user"?, "connection"?}]}, JSON or YAML. */
export function readFleetFile(path: string): FleetServerSpec[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--fleet: cannot read ${path}: ${(e as Error).message}`);
  }
  const yaml = /\.ya?ml$/i.test(path);
  let doc: unknown;
  try {
    doc = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--fleet: ${path} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
  const targets = (doc as { targets?: unknown })?.targets;
  if (!Array.isArray(targets) || targets.length === 0)
    throw new UsageError(`--fleet: ${path} needs "targets": a list of {"host", "port", "databases"}`);
  return targets.map((target: unknown, i: number): FleetServerSpec => {
    const where = `--fleet: ${path}: targets[${i}]`;
    if (!target || typeof target !== 'object') throw new UsageError(`${where} is not an object`);
    const t = target as Record<string, unknown>;
    const known = ['host', 'port', 'databases', 'table', 'user', 'connection'];
    const unknown = Object.keys(t).filter((k) => !known.includes(k));
    if (unknown.length)
      throw new UsageError(`${where}: unknown key ${unknown.join(', ')} (known: ${known.join(', ')})`);
    if (typeof t.host !== 'string' || !t.host) throw new UsageError(`${where}: "host" is required`);
    const port = t.port === undefined ? 3306 : Number(t.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new UsageError(`${where}: "port" must be 1 to 65535, got ${JSON.stringify(t.port)}`);
    const dbs = t.databases;
    const valid =
      (typeof dbs === 'string' && dbs.length > 0) ||
      (Array.isArray(dbs) && dbs.length > 0 && dbs.every((d: unknown) => typeof d === 'string' && d));
    if (!valid) throw new UsageError(`${where}: "databases" must be a LIKE pattern ("shard_%") or a list of names`);
    for (const k of ['table', 'user', 'connection']) {
      if (t[k] !== undefined && (typeof t[k] !== 'string' || !t[k]))
        throw new UsageError(`${where}: "${k}" must be a name`);
    }
    const name = (k: string) => (typeof t[k] === 'string' && t[k] ? { [k]: t[k] as string } : {});
    return {
      host: t.host,
      port,
      databases: dbs as string | string[],
      ...name('table'),
      ...name('user'),
      ...name('connection'),
    };
  });
}

/** A fleet's name as --fleet-name takes it (its workflow id is revenant-fleet:<name>), or refused. */
function fleetName(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name))
    throw new UsageError(`--fleet-name must be letters, digits, _ . or -, not "${name}"`);
  return name;
}

/** The command line's user, TLS and timeout, for every server of the fleet. */
const loginOf = (server: ServerRef): FleetInput['login'] => ({
  ...(server.user ? { user: server.user } : {}),
  ...(server.tls ? { tls: server.tls } : {}),
  ...(server.timeoutSeconds ? { timeoutSeconds: server.timeoutSeconds } : {}),
});

/** The fleet's input, from the command line (its flags already read into `req`, with a placeholder database). */
export function fleetInput(req: MigrateRequest, values: Record<string, unknown>): FleetInput {
  const file = String(values.fleet);
  const servers = readFleetFile(file);
  const int = (name: string, dflt: number, min: number, max = 1000) => {
    const x = values[name] === undefined ? dflt : Number(values[name]);
    if (!Number.isInteger(x) || x < min || x > max)
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${values[name]}`);
    return x;
  };
  const onFailure = String(values['on-failure'] ?? FLEET_DEFAULTS.onFailure);
  if (!['stop', 'continue'].includes(onFailure))
    throw new UsageError(`--on-failure takes stop or continue, not "${onFailure}"`);
  const name = fleetName(String(values['fleet-name'] ?? basename(file, extname(file))));
  const { server, database: _database, table, ...template } = req.input;
  return {
    name,
    servers,
    table,
    template,
    login: loginOf(server),
    maxConcurrent: int('max-concurrent', FLEET_DEFAULTS.maxConcurrent, 1, 100),
    ...(values['max-per-server'] !== undefined ? { maxPerServer: int('max-per-server', 1, 1, 100) } : {}),
    canary: int('canary', FLEET_DEFAULTS.canary, 0),
    onFailure: onFailure as FleetInput['onFailure'],
    cutOver: values['cut-over'] === 'together' ? 'together' : FLEET_DEFAULTS.cutOver,
    ...(req.input.resurrect ? { resurrect: true } : {}),
  };
}

/** One line: targets done / copying / holding / failed, rows overall, and the time it has taken. */
export function fleetLine(s: FleetStatus): string {
  const c = s.counts;
  const rows = s.targets.reduce((n, t) => n + (t.rowsCopied ?? 0), 0);
  const total = s.targets.length;
  return (
    `Fleet ${s.name}: ${s.phase}${s.paused ? ' (paused)' : ''}; ${total} targets: ${c.done + c.skipped} done, ${c.copying} copying, ${c.holding} holding, ` +
    `${c['cutting-over']} cutting over, ${c.failed} failed, ${c.pending} waiting; ${rows.toLocaleString('en')} rows copied by the targets done; ` +
    `elapsed ${Math.round(s.elapsedSeconds)}s${renamesText(s)}${s.message ? `; ${s.message}` : ''}`
  );
}

/** Each server's one RENAME of a cut-over together, once run. */
const renamesText = (s: FleetStatus): string => {
  const done = (s.renames ?? []).filter((r) => r.renamedAt);
  if (!done.length) return '';
  const back = (s.groupCutOvers ?? 1) % 2 === 0 ? ', swapped back (revert)' : '';
  return `; cut over together: ${done.map((r) => `${r.tables.length} tables in one RENAME on ${r.server}`).join(', ')}${back}`;
};

/** A table of the targets, one a line. */
export function fleetTable(s: FleetStatus, live: Map<string, string> = new Map()): string[] {
  return s.targets.map(
    (t) =>
      `  ${`${t.server.host}:${t.server.port}`.padEnd(22)} ${`${t.database}.${t.table}`.padEnd(32)} ${t.state.padEnd(12)} ` +
      `${live.get(t.workflowId) ?? t.message ?? ''}${t.canary ? ' (canary)' : ''}`,
  );
}

/** --alter-table T="ALTER", as given: each table and its ALTER, in order, each table once. */
export function tableAlters(values: Record<string, unknown>): TableAlter[] {
  const given = String(values['alter-table']).split(LIST_SEPARATOR);
  const seen = new Set<string>();
  return given.map((g) => {
    const eq = g.indexOf('=');
    const table =
      eq > 0
        ? g
            .slice(0, eq)
            .trim()
            .replace(/^`(.*)`$/, '$1')
        : '';
    const alter = eq > 0 ? g.slice(eq + 1).trim() : '';
    if (!table || !alter)
      throw new UsageError(`--alter-table takes TABLE="ALTER …", e.g. orders="ADD COLUMN c INT", not "${g}"`);
    if (seen.has(table)) throw new UsageError(`--alter-table names ${table} twice: one ALTER a table`);
    seen.add(table);
    return { table, alter };
  });
}

/**
 * A multi-table migration (--database D --alter-table T="…" …): a fleet of one server's tables,
 * each with its own ALTER, swapped together in one RENAME. Named after its database and tables
 * unless --fleet-name says otherwise.
 */
export function tablesInput(req: MigrateRequest, values: Record<string, unknown>, tables: TableAlter[]): FleetInput {
  if (tables.length < 2)
    throw new UsageError('--alter-table is for two tables or more: one table takes --table and --alter');
  const { server, database, table: _table, ...template } = req.input;
  const name = fleetName(
    String(
      values['fleet-name'] ??
        `${database}.${tables.map((t) => t.table).join('.')}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100),
    ),
  );
  return {
    name,
    servers: [
      {
        host: server.host,
        port: server.port,
        databases: [database],
        ...(server.name ? { connection: server.name } : {}),
      },
    ],
    table: tables[0].table,
    tables,
    template: { ...template, alter: '' },
    login: loginOf(server),
    // Every table copies at once: they wait for each other at the cut-over.
    maxConcurrent: Math.min(100, tables.length),
    canary: 0,
    onFailure: 'stop',
    cutOver: 'together',
    ...(req.input.resurrect ? { resurrect: true } : {}),
  };
}
