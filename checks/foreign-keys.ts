// Foreign keys: none referencing the table (after the cut-over they would reference the old
// one); its own only with --discard-foreign-keys.
import { rows } from '../mysql/query';
import * as sql from '../mysql/statements';
import { refuse } from './refuse';
import { registerTableCheck } from './registry';

registerTableCheck({
  name: 'foreign-keys',
  order: 20,
  async run({ conn, input, db, table }) {
    // --skip-foreign-key-checks: the user vouches that no other table references this one, and
    // information_schema (slow with many tables) is not searched; the table's own keys still are.
    const fks = await rows(
      conn,
      input.skipForeignKeyChecks ? sql.foreignKeysOf(db, table) : sql.foreignKeysTouching(db, table),
    );
    const parent = fks.find((fk) => !(fk.TABLE_SCHEMA === db && fk.TABLE_NAME === table));
    if (parent) {
      refuse(
        `Parent-side foreign keys are not supported: ${parent.TABLE_SCHEMA}.${parent.TABLE_NAME} references ${db}.${table} (${parent.CONSTRAINT_NAME}); ` +
          'after the cut-over it would reference the old table',
      );
    }
    const child = fks.find((fk) => fk.TABLE_SCHEMA === db && fk.TABLE_NAME === table);
    if (child && !input.discardForeignKeys) {
      refuse(
        `Child-side foreign keys are not supported. Bailing out: ${db}.${table} references ${child.REFERENCED_TABLE_NAME} (${child.CONSTRAINT_NAME}); ` +
          '--discard-foreign-keys migrates the table without its foreign keys',
      );
    }
  },
});
