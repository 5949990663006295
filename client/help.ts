// `revenant migrate --help`: every flag with its meaning, grouped in the order gh-ost's own
// main.go declares them (connection, what to migrate, topology, tables and cut-over, copy,
// throttling, interactive control, hooks, checkpoints, load), revenant's own flags marked, and
// the gh-ost flags revenant refuses, each with its reason. test/flags.test.ts checks that no
// flag is missing here.
import { REFUSED_FLAGS } from './flags';
import { FLAG_TABLE } from './flag-table';

export function migrateHelp(): string {
  const lines = [
    'usage: revenant migrate --host H --port P --user U --database D --table T --alter "…" [--execute] [flags…]',
    '',
    "gh-ost's flags, with gh-ost's names and meanings; those marked \"revenant:\" are revenant's own.",
  ];
  for (const { group, flags } of FLAG_TABLE) {
    lines.push('', `${group}:`);
    for (const { name, kind, help, settable } of flags) {
      const value = kind === 'bool' ? '' : kind === 'list' ? ' string (repeatable)' : ` ${kind}`;
      lines.push(`  --${name}${value}${settable ? '   [settable while running]' : ''}`, `      ${help}`);
    }
  }
  lines.push('', 'gh-ost flags revenant refuses, and why:');
  for (const [flag, r] of Object.entries(REFUSED_FLAGS)) lines.push(`  --${flag}`, `      ${r.why}`);
  return lines.join('\n');
}
