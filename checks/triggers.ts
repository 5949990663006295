// Triggers: none on the table unless --include-triggers, and then names for the ghost's copies
// that fit and are free in the schema.
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { ghostTriggerName } from '../table/ghost-triggers';
import { refuse } from './refuse';
import { registerTableCheck } from './registry';

registerTableCheck({
  name: 'triggers',
  order: 30,
  async run({ conn, input, db, table }) {
    const triggers = await rows(conn, sql.triggersOn(db, table));
    if (triggers.length && !input.triggers) {
      refuse(
        `${db}.${table} has triggers (${triggers.map((r) => r.TRIGGER_NAME).join(', ')}); --include-triggers migrates them with the table`,
      );
    }
    if (triggers.length && input.triggers)
      await checkGhostTriggerNames(
        conn,
        db,
        triggers.map((r) => String(r.TRIGGER_NAME)),
        input.triggers,
      );
  },
});

async function checkGhostTriggerNames(
  conn: Conn,
  db: string,
  names: string[],
  t: { suffix: string; removeSuffixIfExists: boolean },
): Promise<void> {
  const ghostNames = names.map((n) => ghostTriggerName(n, t));
  const long = ghostNames.find((n) => n.length > 64);
  if (long) refuse(`the ghost trigger name ${long} is longer than 64 characters: choose a shorter --trigger-suffix`);
  const taken = await rows(conn, sql.triggersNamed(db, ghostNames));
  if (taken.length) {
    refuse(
      `found gh-ost triggers: ${taken.map((r) => `${r.TRIGGER_NAME} (on ${r.EVENT_OBJECT_TABLE})`).join(', ')} already exist in ${db}, ` +
        'and trigger names are unique per schema: drop them (a previous migration may have left them) or choose another --trigger-suffix',
    );
  }
}
