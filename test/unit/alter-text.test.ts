// Pure unit tests of the ALTER reader (table/alter-text.ts): what it accepts as one
// ALTER TABLE specification list, and what it refuses, naming the part refused.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { AlterRefused, parseAlter } from '../../table/alter-text';
import { normalizeAlter } from '../../table/alter-clauses';
import { loadCases } from '../support/localtests';
import { ROOT } from '../support/paths';
import { join } from 'node:path';

const target = { database: 'shop', table: 't' };
const refused = (alter: string, why: RegExp) =>
  assert.throws(
    () => parseAlter(alter, target),
    (e: unknown) => e instanceof AlterRefused && why.test(e.message),
  );

test('ALTER text: a specification list is kept as the server reads it', () => {
  assert.equal(parseAlter('ADD COLUMN x INT', target).text, 'ADD COLUMN x INT');
  assert.equal(parseAlter('ALTER TABLE `shop`.`t` ADD COLUMN x INT;', target).text, 'ADD COLUMN x INT');
  assert.equal(parseAlter('alter online table T add column x int ;; ', target).text, 'add column x int');
  assert.deepEqual(parseAlter("ADD COLUMN a ENUM('x,y','z'), ADD INDEX (a, b), COMMENT 'a,b'", target).clauses, [
    "ADD COLUMN a ENUM('x,y','z')",
    'ADD INDEX (a, b)',
    "COMMENT 'a,b'",
  ]);
  // Literals keep their bytes, spaces and would-be comment marks.
  assert.equal(
    parseAlter("MODIFY c VARCHAR(10) DEFAULT 'a -- b; /* c */ # d'", target).text,
    "MODIFY c VARCHAR(10) DEFAULT 'a -- b; /* c */ # d'",
  );
  assert.equal(
    parseAlter('ADD COLUMN `we;ird``--` INT COMMENT "it\'s; \\" fine"', target).text,
    'ADD COLUMN `we;ird``--` INT COMMENT "it\'s; \\" fine"',
  );
  // Comments go (as spaces), so nothing appended after the text can be commented out.
  assert.equal(parseAlter('MODIFY c BIGINT -- widen', target).text, 'MODIFY c BIGINT');
  assert.equal(parseAlter('MODIFY c BIGINT # widen', target).text, 'MODIFY c BIGINT');
  assert.equal(parseAlter('MODIFY/* a */c BIGINT', target).text, 'MODIFY c BIGINT');
  assert.equal(parseAlter('ADD COLUMN x INT DEFAULT 5--3', target).text, 'ADD COLUMN x INT DEFAULT 5--3');
  assert.equal(parseAlter('ALTER COLUMN c SET DEFAULT 1, ALTER INDEX i INVISIBLE', target).clauses.length, 2);
  assert.equal(parseAlter('', target).text, '');
  assert.equal(normalizeAlter('ALTER TABLE `db`.`t` ADD COLUMN x INT;'), 'ADD COLUMN x INT');
});

test('ALTER text: what rides along is refused, naming it', () => {
  refused('ADD COLUMN x INT; DROP TABLE sec1.victim', /second statement after ";": "DROP TABLE sec1.victim"/);
  refused('ADD COLUMN x INT;DROP TABLE v', /second statement/);
  refused('ADD COLUMN x INT -- c\n; DROP TABLE v', /second statement/);
  refused('ADD COLUMN x INT /*!; DROP TABLE v */', /executable comment/);
  refused('ADD COLUMN x INT /*M!100000 , RENAME TO u */', /executable comment/);
  refused('ADD COLUMN x INT /*+ SET_VAR(x=1) */', /executable comment/);
  refused('ADD COLUMN x INT /* never closed', /unterminated comment/);
  refused("ADD COLUMN x INT DEFAULT 'open", /unterminated string/);
  refused('ADD COLUMN `x INT', /unterminated quoted identifier/);
  refused('ALTER TABLE other ADD COLUMN x INT', /names the table other, but the migration is of shop.t/);
  refused('ALTER TABLE mysql.t ADD COLUMN x INT', /names the table mysql.t/);
  refused('RENAME TO t2', /seems to RENAME the table/);
  refused('ADD COLUMN x INT, RENAME AS shop2.t', /seems to RENAME the table/);
  assert.throws(() => parseAlter('DROP TABLE sec1.victim; SELECT 1', target), AlterRefused);
  refused('SELECT 1', /not an ALTER TABLE clause \(it starts with "SELECT"\)/);
  refused('GRANT ALL ON *.* TO x', /not an ALTER TABLE clause/);
  refused('ALTER USER root IDENTIFIED BY "x"', /ALTER USER statement/);
  refused('ADD COLUMN x INT,, ADD y INT', /empty clause/);
  refused('ADD COLUMN x INT)', /unbalanced/);
  refused('ADD COLUMN x DECIMAL(10', /unclosed/);
  refused('ADD COLUMN x INT\0', /NUL/);
});

test("ALTER text: every ALTER of gh-ost's localtests is accepted", (t) => {
  const dir = [join(ROOT, '..', 'shared', 'peer', 'gh-ost-localtests'), '/work/shared/peer/gh-ost-localtests'].find(
    existsSync,
  );
  if (!dir) {
    t.skip('gh-ost localtests not beside the checkout');
    return;
  }
  let read = 0;
  for (const c of loadCases(dir)) {
    const at = c.extraArgs.findIndex((a) => a === '--alter' || a.startsWith('--alter='));
    const alter =
      at < 0
        ? undefined
        : c.extraArgs[at] === '--alter'
          ? c.extraArgs[at + 1]
          : c.extraArgs[at].slice('--alter='.length);
    if (!alter) continue;
    read++;
    // A case that expects a failure may be refused here, with gh-ost's words.
    if (c.expectFailure) {
      try {
        parseAlter(alter, { database: 'test', table: 'gh_ost_test' });
      } catch (e) {
        assert.ok(
          e instanceof AlterRefused && e.message.includes(c.expectFailure),
          `${c.name}: ${(e as Error).message}`,
        );
      }
      continue;
    }
    const parsed = parseAlter(alter, { database: 'test', table: 'gh_ost_test' });
    assert.ok(parsed.clauses.length > 0, `${c.name}: ${alter}`);
  }
  assert.ok(read > 30, `read ${read} ALTERs`);
});
