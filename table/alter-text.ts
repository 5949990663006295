// The operator's ALTER as text revenant accepts: exactly one ALTER TABLE specification list
// for the migrated table. The text is tokenized as the server would read it (string
// literals, quoted identifiers, comments), so that nothing can ride along with it: a second
// statement, an executable comment, a trailing comment that would swallow what revenant
// appends (", ALGORITHM=INSTANT"), or a prefix naming another table. Pure: the CLI, the
// worker and the activities refuse the same text the same way.

/** Why an ALTER was refused, naming the part refused. */
export class AlterRefused extends Error {
  override readonly name = 'AlterRefused';
}

type TokenKind = 'word' | 'string' | 'ident' | 'number' | 'punct' | 'space' | 'comment';

interface Token {
  kind: TokenKind;
  text: string;
  /** Offset in the operator's text, for messages. */
  at: number;
}

/**
 * Words that may begin a clause of ALTER TABLE on MySQL 8.0 to 9.x and MariaDB 10.5 to 11.x
 * (table options included). Anything else at a clause's start is not an ALTER TABLE clause.
 */
const CLAUSE_STARTS = new Set([
  'ADD',
  'ALGORITHM',
  'ALTER',
  'ANALYZE',
  'AUTOEXTEND_SIZE',
  'AUTO_INCREMENT',
  'AVG_ROW_LENGTH',
  'CHANGE',
  'CHARACTER',
  'CHARSET',
  'CHECK',
  'CHECKSUM',
  'COALESCE',
  'COLLATE',
  'COMMENT',
  'COMPRESSION',
  'CONNECTION',
  'CONVERT',
  'DATA',
  'DEFAULT',
  'DELAY_KEY_WRITE',
  'DISABLE',
  'DISCARD',
  'DROP',
  'ENABLE',
  'ENCRYPTED',
  'ENCRYPTION',
  'ENCRYPTION_KEY_ID',
  'ENGINE',
  'ENGINE_ATTRIBUTE',
  'EXCHANGE',
  'FORCE',
  'IETF_QUOTES',
  'IMPORT',
  'INDEX',
  'INSERT_METHOD',
  'KEY_BLOCK_SIZE',
  'LOCK',
  'MAX_ROWS',
  'MIN_ROWS',
  'MODIFY',
  'OPTIMIZE',
  'ORDER',
  'PACK_KEYS',
  'PAGE_CHECKSUM',
  'PAGE_COMPRESSED',
  'PAGE_COMPRESSION_LEVEL',
  'PARTITION',
  'PASSWORD',
  'REBUILD',
  'REMOVE',
  'RENAME',
  'REORGANIZE',
  'REPAIR',
  'ROW_FORMAT',
  'SECONDARY_ENGINE',
  'SECONDARY_ENGINE_ATTRIBUTE',
  'SECONDARY_LOAD',
  'SECONDARY_UNLOAD',
  'SEQUENCE',
  'STATS_AUTO_RECALC',
  'STATS_PERSISTENT',
  'STATS_SAMPLE_PAGES',
  'TABLESPACE',
  'TABLE_CHECKSUM',
  'TRANSACTIONAL',
  'TRUNCATE',
  'UNION',
  'UPGRADE',
  'WITH',
  'WITHOUT',
]);

const isWordChar = (ch: string) => /[\p{L}\p{N}_$]/u.test(ch);
const refuse = (why: string): never => {
  throw new AlterRefused(why);
};
/** A short quote of the refused part, for messages. */
const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);

/** Reads a quoted run ('…', "…" or `…`) starting at `i`; returns the offset after its closing quote. */
function quotedEnd(s: string, i: number): number {
  const q = s[i];
  for (let j = i + 1; j < s.length; j++) {
    // Backslash escapes in string literals: revenant's sessions never run with NO_BACKSLASH_ESCAPES (see flavor.ts).
    if (s[j] === '\\' && q !== '`') {
      j++;
      continue;
    }
    if (s[j] === q) {
      if (s[j + 1] === q) {
        j++;
        continue;
      }
      return j + 1;
    }
  }
  return refuse(
    `the ALTER has an unterminated ${q === '`' ? 'quoted identifier' : 'string'} starting at ${quote(s.slice(i))}`,
  );
}

/** The server's reading of the text, token by token. */
export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    const start = i;
    if (/\s/.test(ch)) {
      while (i < s.length && /\s/.test(s[i])) i++;
      out.push({ kind: 'space', text: s.slice(start, i), at: start });
    } else if (ch === '/' && s[i + 1] === '*') {
      // /*! … */ and /*M! … */ run as SQL on the server, /*+ … */ are optimizer hints: the
      // text must say plainly what it does.
      if (/^\/\*(!|M!|\+)/.test(s.slice(i, i + 4))) {
        refuse(`the ALTER holds an executable comment ${quote(s.slice(i))}: write its clauses without /*! */`);
      }
      const end = s.indexOf('*/', i + 2);
      if (end < 0) refuse(`the ALTER has an unterminated comment ${quote(s.slice(i))}`);
      i = end + 2;
      out.push({ kind: 'comment', text: s.slice(start, i), at: start });
    } else if (
      ch === '#' ||
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the server ends a "-- " comment's dash pair at a control character too.
      (ch === '-' && s[i + 1] === '-' && (i + 2 >= s.length || /[\s\x00-\x1f]/.test(s[i + 2])))
    ) {
      while (i < s.length && s[i] !== '\n') i++;
      out.push({ kind: 'comment', text: s.slice(start, i), at: start });
    } else if (ch === "'" || ch === '"') {
      i = quotedEnd(s, i);
      out.push({ kind: 'string', text: s.slice(start, i), at: start });
    } else if (ch === '`') {
      i = quotedEnd(s, i);
      out.push({ kind: 'ident', text: s.slice(start, i), at: start });
    } else if (/[0-9]/.test(ch)) {
      while (i < s.length && /[0-9A-Za-z_.$]/.test(s[i])) i++;
      out.push({ kind: 'number', text: s.slice(start, i), at: start });
    } else if (isWordChar(ch)) {
      while (i < s.length && isWordChar(s[i])) i++;
      out.push({ kind: 'word', text: s.slice(start, i), at: start });
    } else {
      i++;
      out.push({ kind: 'punct', text: ch, at: start });
    }
  }
  return out;
}

const upper = (t: Token | undefined) => (t?.kind === 'word' ? t.text.toUpperCase() : '');
const identName = (t: Token) => (t.kind === 'ident' ? t.text.slice(1, -1).replace(/``/g, '`') : t.text);

/** True when a clause renames the table itself (RENAME TO / AS / bare RENAME name). */
export function renamesTable(clauses: string[]): boolean {
  return clauses.some((c) => /^RENAME\s+(TO|AS)\b/i.test(c) || /^RENAME\s+(?!(COLUMN|INDEX|KEY|TO|AS)\b)\S/i.test(c));
}

export interface ParsedAlter {
  /** The specification list alone, comments and prefix removed: what revenant applies. */
  text: string;
  /** Its top-level clauses, in order. */
  clauses: string[];
}

/**
 * Reads the operator's ALTER for `database`.`table`: an optional `ALTER [ONLINE|IGNORE]
 * TABLE name` prefix naming that table, then one specification list, with at most trailing
 * semicolons. Throws AlterRefused naming the part refused.
 */
export function parseAlter(alter: string, target?: { database: string; table: string }): ParsedAlter {
  if (typeof alter !== 'string') refuse('the ALTER must be text');
  if (alter.includes('\0')) refuse('the ALTER holds a NUL character');
  const all = tokenize(alter);
  // Comments become spaces, as the server reads them: what remains is what the server would
  // have run, and nothing revenant appends can be swallowed by a trailing one.
  let tokens = all.map((t): Token => (t.kind === 'comment' ? { kind: 'space', text: ' ', at: t.at } : t));
  const significant = (ts: Token[]) => ts.filter((t) => t.kind !== 'space');

  // Trailing semicolons are allowed, and nothing after them.
  const semi = tokens.findIndex((t) => t.kind === 'punct' && t.text === ';');
  if (semi >= 0) {
    const after = significant(tokens.slice(semi)).filter((t) => !(t.kind === 'punct' && t.text === ';'));
    if (after.length) {
      refuse(
        `the ALTER holds a second statement after ";": ${quote(alter.slice(after[0].at))}; revenant runs exactly one ALTER TABLE`,
      );
    }
    tokens = tokens.slice(0, semi);
  }

  // The optional prefix, which must name the migrated table.
  let sig = significant(tokens);
  if (upper(sig[0]) === 'ALTER') {
    let k = 1;
    while (upper(sig[k]) === 'ONLINE' || upper(sig[k]) === 'IGNORE') k++;
    if (upper(sig[k]) === 'TABLE') {
      k++;
      const first = sig[k];
      if (!first || (first.kind !== 'word' && first.kind !== 'ident'))
        refuse('the ALTER\'s "ALTER TABLE" prefix names no table');
      let db: string | undefined;
      let name = identName(first);
      k++;
      if (
        sig[k]?.kind === 'punct' &&
        sig[k].text === '.' &&
        (sig[k + 1]?.kind === 'word' || sig[k + 1]?.kind === 'ident')
      ) {
        db = name;
        name = identName(sig[k + 1]);
        k += 2;
      }
      // Names compared without case: the prefix is only checked, never used (the migration's
      // own --database and --table name the table altered).
      const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
      if (target && (!same(name, target.table) || (db !== undefined && !same(db, target.database)))) {
        refuse(
          `the ALTER names the table ${db !== undefined ? `${db}.` : ''}${name}, but the migration is of ${target.database}.${target.table}`,
        );
      }
      const rest = sig[k];
      tokens = rest ? tokens.slice(tokens.indexOf(rest)) : [];
      sig = significant(tokens);
    } else if (
      upper(sig[1]) !== 'COLUMN' &&
      upper(sig[1]) !== 'INDEX' &&
      upper(sig[1]) !== 'CONSTRAINT' &&
      upper(sig[1]) !== 'CHECK'
    ) {
      // "ALTER DATABASE …", "ALTER USER …": a statement, not "ALTER [COLUMN] c SET DEFAULT …".
      if (
        [
          'DATABASE',
          'SCHEMA',
          'USER',
          'VIEW',
          'EVENT',
          'FUNCTION',
          'PROCEDURE',
          'SERVER',
          'TABLESPACE',
          'LOGFILE',
          'INSTANCE',
          'RESOURCE',
          'SEQUENCE',
        ].includes(upper(sig[1]))
      ) {
        refuse(
          `the ALTER is an ALTER ${upper(sig[1])} statement, not changes to ${target ? `${target.database}.${target.table}` : 'the table'}`,
        );
      }
    }
  }

  // Top-level clauses, split on commas outside parentheses.
  const clauses: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') {
      depth--;
      if (depth < 0) refuse(`the ALTER has an unbalanced ")" at ${quote(alter.slice(t.at))}`);
    }
    if (t.kind === 'punct' && t.text === ',' && depth === 0) clauses.push([]);
    else clauses[clauses.length - 1].push(t);
  }
  if (depth !== 0) refuse('the ALTER has an unclosed "("');
  const texts = clauses.map((c) =>
    c
      .map((t) => (t.kind === 'space' ? ' ' : t.text))
      .join('')
      .trim(),
  );
  if (texts.length === 1 && texts[0] === '') return { text: '', clauses: [] };
  for (let n = 0; n < clauses.length; n++) {
    const first = significant(clauses[n])[0];
    if (!first)
      refuse(`the ALTER has an empty clause (two commas, or a comma at ${n === 0 ? 'its start' : 'its end'})`);
    const word = upper(first);
    if (!CLAUSE_STARTS.has(word)) {
      refuse(
        `the ALTER's clause ${quote(texts[n])} is not an ALTER TABLE clause (it starts with ${quote(first.text)})`,
      );
    }
    if (renamesTable([texts[n]])) {
      refuse(
        `alter statement seems to RENAME the table (${quote(texts[n])}): that is not an online migration; run the RENAME TABLE yourself, outside revenant`,
      );
    }
  }
  return { text: texts.join(', '), clauses: texts };
}
