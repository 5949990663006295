// A fleet's input (migrateFleet), defined once as the migration's is: its fields, their bounds
// and defaults. The fleet's workflow fills the defaults and refuses what does not fit before it
// resolves a single target, so a start from the Temporal CLI needs only a name, the servers, the
// table and the template's ALTER; schemas/fleet-input.schema.json comes from this table.
import type { FleetInput } from './types';
import {
  checkFields,
  type FieldSpec,
  INPUT_FIELDS,
  InputRefused,
  objectOf,
  SERVER_FIELDS,
  withDefaults,
} from './migration-input';

/** The CLI's defaults for a fleet (--max-concurrent, --canary, --on-failure, --cut-over). */
export const FLEET_DEFAULTS = { maxConcurrent: 4, canary: 0, onFailure: 'stop', cutOver: 'each' } as const;

/** A migration's fields that each target has of its own, not the template. */
const PER_TARGET = new Set(['server', 'database', 'table']);

const TEMPLATE_FIELDS: Record<string, FieldSpec> = Object.fromEntries(
  Object.entries(INPUT_FIELDS).filter(([k]) => !PER_TARGET.has(k)),
);

const FLEET_SERVER_FIELDS: Record<string, FieldSpec> = {
  host: { kind: 'string', doc: 'host name or address', required: true, nonEmpty: true },
  port: { kind: 'integer', doc: 'its port', min: 1, max: 65535, default: 3306 },
  databases: { kind: 'name-or-names', doc: 'a LIKE pattern ("shard_%") or a list of names', required: true },
  table: { kind: 'string', doc: "the table, when it is not the fleet's", nonEmpty: true },
  user: { kind: 'string', doc: 'MySQL user on this server', nonEmpty: true },
  connection: { kind: 'string', doc: "a connection named in the worker's REVENANT_CONFIG", nonEmpty: true },
};

/** Every field of FleetInput. */
export const FLEET_FIELDS: { [K in keyof FleetInput]-?: FieldSpec } = {
  name: { kind: 'string', doc: 'the fleet (its workflow id is revenant-fleet:<name>)', required: true, nonEmpty: true },
  servers: { kind: 'object-list', doc: 'the servers and their databases', required: true, fields: FLEET_SERVER_FIELDS },
  table: {
    kind: 'string',
    doc: 'the table in every database that names none of its own',
    required: true,
    nonEmpty: true,
  },
  tables: {
    kind: 'object-list',
    doc: 'a multi-table migration: [{"table", "alter"}] of the one database of the one server, cut over together in one RENAME',
    fields: {
      table: { kind: 'string', doc: 'a table of the database', required: true, nonEmpty: true },
      alter: { kind: 'string', doc: 'its ALTER TABLE specification', required: true, nonEmpty: true },
    },
  },
  template: {
    kind: 'object',
    doc: "every target's migration but its server, database and table: the ALTER and gh-ost's flags",
    required: true,
    fields: TEMPLATE_FIELDS,
  },
  login: {
    kind: 'object',
    doc: 'user, TLS and timeout for every server of the fleet',
    fields: { user: SERVER_FIELDS.user, tls: SERVER_FIELDS.tls, timeoutSeconds: SERVER_FIELDS.timeoutSeconds },
  },
  maxConcurrent: {
    kind: 'integer',
    doc: '--max-concurrent',
    min: 1,
    max: 100,
    default: FLEET_DEFAULTS.maxConcurrent,
  },
  maxPerServer: { kind: 'integer', doc: '--max-per-server', min: 1, max: 100 },
  canary: { kind: 'integer', doc: '--canary', min: 0, max: 1000, default: FLEET_DEFAULTS.canary },
  onFailure: { kind: 'enum', doc: '--on-failure', values: ['stop', 'continue'], default: FLEET_DEFAULTS.onFailure },
  cutOver: { kind: 'enum', doc: '--cut-over', values: ['each', 'together'], default: FLEET_DEFAULTS.cutOver },
  resurrect: { kind: 'boolean', doc: '--resurrect' },
  historyLimit: { kind: 'integer', doc: 'history events before a renewal', min: 100, max: 50_000 },
  carried: { kind: 'internal', doc: 'set by a renewal (continue-as-new)' },
};

/**
 * The fleet's input with every default filled in, after checking each field given, the
 * template's included (as a migration's, but for the three each target has of its own).
 */
export function completeFleetInput(raw: unknown): FleetInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InputRefused(
      'the fleet input must be one JSON object: {"name", "servers": [{"host", "databases"}], "table", "template": {"alter"}}',
    );
  const given = raw as Record<string, unknown>;
  checkFields(given, FLEET_FIELDS, '');
  const template = given.template as Record<string, unknown>;
  if (typeof template.alter !== 'string')
    throw new InputRefused('input field template.alter is required: a string (the ALTER TABLE specification)');
  const input = withDefaults(given, FLEET_FIELDS) as unknown as FleetInput;
  if (input.tables) {
    const one =
      input.servers.length === 1 &&
      Array.isArray(input.servers[0].databases) &&
      input.servers[0].databases.length === 1;
    if (!one)
      throw new InputRefused(
        'input field tables: a multi-table migration names one server with one database (servers: [{"host", "databases": ["D"]}])',
      );
    if (input.tables.length < 2) throw new InputRefused('input field tables: two tables or more');
    const names = input.tables.map((t) => t.table);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new InputRefused(`input field tables: ${twice} is named twice`);
    if (given.cutOver === undefined) input.cutOver = 'together';
    if (input.cutOver !== 'together')
      throw new InputRefused('input field cutOver: a multi-table migration cuts over together (one RENAME)');
    for (const [k, what] of [
      ['cutOverWindows', 'cut-over windows'],
      ['migrateOnReplica', '--migrate-on-replica'],
      ['testOnReplica', '--test-on-replica'],
    ] as const) {
      const v = (given.template as Record<string, unknown>)[k];
      if (v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
        throw new InputRefused(`input field template.${k}: a multi-table migration takes no ${what}`);
    }
  }
  // The template's own defaults are each target's to fill (its workflow completes its input).
  input.template = given.template as FleetInput['template'];
  input.login = (given.login ?? {}) as FleetInput['login'];
  return input;
}

/** The JSON Schema (draft 2020-12) of a fleet's input. */
export function fleetJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: "revenant's migrateFleet input",
    ...objectOf(FLEET_FIELDS, {
      description:
        "The input of the migrateFleet workflow: name, servers, table and template (with its alter) are required; every other field takes its default (the template's, each target's migration).",
    }),
  };
}
