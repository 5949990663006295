// The ALTER: read as the server reads it (one specification list for the named table, anything
// riding along refused), not empty, and its column renames confirmed.
import type { MigrationInput } from '../model/types';
import { AlterRefused, parseAlter } from '../table/alter-text';
import { columnRenames, splitClauses } from '../table/alter-clauses';
import { refuse } from './refuse';
import { registerTableCheck } from './registry';

/**
 * The operator's ALTER as revenant applies it (its specification list alone), or a
 * non-retryable refusal naming what rode along with it (see alter-text.ts). Every statement
 * that carries the ALTER takes it from here.
 */
export function alterOf(input: Pick<MigrationInput, 'alter' | 'database' | 'table'>): string {
  try {
    return parseAlter(input.alter, input).text;
  } catch (e) {
    if (e instanceof AlterRefused) refuse(e.message);
    throw e;
  }
}

registerTableCheck({
  name: 'alter',
  order: 10,
  async run({ input }) {
    const alter = alterOf(input);
    if (!alter)
      refuse('the ALTER is empty: pass the change with --alter, e.g. --alter "ADD COLUMN c INT NOT NULL DEFAULT 0"');
    // (A table rename was refused by alterOf, with gh-ost's words.)
    const clauses = splitClauses(alter);
    const renames = columnRenames(clauses);
    if (renames.size > 0 && !input.approveRenamedColumns) {
      const list = [...renames].map(([a, b]) => `${a} -> ${b}`).join(', ');
      refuse(
        `the ALTER renames columns (${list}); revenant will copy their data under the new names. Confirm this is right with --approve-renamed-columns`,
      );
    }
  },
});
