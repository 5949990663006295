// The names the migration will create: within MySQL's 64 characters, and not taken (a ghost,
// changelog or old table left by another migration) unless the flags say to drop them. Not on
// --resurrect, whose tables are its own.
import { changelogTableName, ghostTableName, oldTableName, tableNameBase } from '../model/types';
import { rows } from '../mysql/query';
import * as sql from '../mysql/statements';
import { refuse } from './refuse';
import { registerTableCheck } from './registry';

registerTableCheck({
  name: 'table-names',
  order: 40,
  async run({ conn, input, db, table, resurrect }) {
    if (!resurrect) {
      const base = tableNameBase(input);
      // The longest name made: the old table's, timestamped (14 digits) or not.
      const longest = oldTableName(base, input.timestampOldTable ? '00000000000000' : undefined);
      if (longest.length > 64) {
        refuse(
          `the old table's name ${longest} would be longer than MySQL's 64 characters: name the migration's tables with --force-table-names${input.timestampOldTable ? ', or drop --timestamp-old-table' : ''}`,
        );
      }
      const [ghost, changelog, old] = [ghostTableName(base), changelogTableName(base), oldTableName(base)];
      const present = new Set(
        (await rows(conn, sql.tablesNamed(db, [ghost, changelog, old]))).map((r) => r.TABLE_NAME as string),
      );
      if (present.has(changelog) && !input.initiallyDropGhostTable) {
        refuse(
          `changelog table ${db}.${changelog} exists: another migration of ${table} is running or was left behind (resume it with --resurrect, or drop it, or pass --initially-drop-ghost-table)`,
        );
      }
      if (present.has(ghost) && !input.initiallyDropGhostTable) {
        refuse(
          `ghost table ${db}.${ghost} exists: another migration of ${table} is running or was left behind (drop it, or pass --initially-drop-ghost-table)`,
        );
      }
      if (present.has(old) && !input.initiallyDropOldTable && !input.timestampOldTable) {
        refuse(
          `table ${db}.${old} exists (left by an earlier migration): drop it, pass --initially-drop-old-table, or --timestamp-old-table`,
        );
      }
    }
  },
});
