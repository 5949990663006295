// Writes schemas/migration-input.schema.json, the JSON Schema of the migrateTable workflow's
// input, from its one definition (model/migration-input.ts, built): npm run schema. A unit
// test checks the committed file is what this writes.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { inputJsonSchema } = require('../dist/model/migration-input.js');

const dir = join(__dirname, '..', 'schemas');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'migration-input.schema.json'), `${JSON.stringify(inputJsonSchema(), null, 2)}\n`);
console.log('schemas/migration-input.schema.json written');
