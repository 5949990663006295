// Where things are, whichever folder a test file is compiled into: the checkout's root (the
// folder of package.json), and the test fixtures in it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'revenant.js'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no revenant checkout above ${from}`);
  }
}

export const ROOT = findRoot(__dirname);
/** The revenant CLI, as a user runs it. */
export const REVENANT_BIN = join(ROOT, 'bin', 'revenant.js');
/** Recorded histories, the previous release: test/fixtures. */
export const FIXTURES = join(ROOT, 'test', 'fixtures');
