// Writes schemas/migration-input.schema.json and schemas/fleet-input.schema.json, the JSON
// Schemas of the migrateTable and migrateFleet workflows' inputs, from their one definition each
// (model/, built): npm run schema. A unit test checks the committed files are what this writes.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { inputJsonSchema } = require('../dist/model/migration-input.js');
const { fleetJsonSchema } = require('../dist/model/fleet-input.js');

const dir = join(__dirname, '..', 'schemas');
mkdirSync(dir, { recursive: true });
for (const [file, schema] of [
  ['migration-input.schema.json', inputJsonSchema()],
  ['fleet-input.schema.json', fleetJsonSchema()],
]) {
  writeFileSync(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`schemas/${file} written`);
}
