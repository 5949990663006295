// MySQL's binary JSON (the JSON column's storage and binlog form; MariaDB's JSON is text and
// never reaches this file), decoded into SQL that rebuilds the very same value in the ghost.
//
// Why not the JSON text: text loses what binary JSON knows. A double 24.0 printed as `24`
// comes back an integer; a DECIMAL 50.0000, a DATE or a DATETIME inside a document comes back
// a double or a string; an unsigned 5 an integer. The copy (INSERT … SELECT) keeps them, so
// the ghost would hold two kinds of the same document and the checksum would stop the
// migration. So each value is rebuilt by the SQL that makes it:
//   plain documents (objects, arrays, strings, integers, doubles, literals): CAST(text AS JSON),
//     doubles printed with a fraction or exponent so that they stay doubles;
//   anything else: JSON_OBJECT / JSON_ARRAY over CAST(? AS DECIMAL(p,s) | DATE | DATETIME(6) |
//     TIME(6) | UNSIGNED | BINARY) for the values of those types.
// Opaque values no SQL expression can make (a TIMESTAMP, a BIT, a BLOB or BINARY(n) column's
// bytes put into a document) are refused: UnrepresentableJson, unless data loss was accepted,
// when they are written as their text.
// The format: sql/json_binary.h in the MySQL source.
import { SqlExpression } from '../mysql/statements';

export type JsonNode =
  | { t: 'object'; entries: [string, JsonNode][] }
  | { t: 'array'; items: JsonNode[] }
  | { t: 'string'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'uint'; v: bigint }
  | { t: 'double'; v: number }
  | { t: 'literal'; v: null | true | false }
  | { t: 'opaque'; type: number; data: Buffer };

const SMALL_OBJECT = 0x0,
  LARGE_OBJECT = 0x1,
  SMALL_ARRAY = 0x2,
  LARGE_ARRAY = 0x3,
  LITERAL = 0x4;
const INT16 = 0x5,
  UINT16 = 0x6,
  INT32 = 0x7,
  UINT32 = 0x8,
  INT64 = 0x9,
  UINT64 = 0xa,
  DOUBLE = 0xb,
  STRING = 0xc,
  OPAQUE = 0xf;

// MySQL field types an opaque value may carry (include/field_types.h).
const FIELD = { timestamp: 7, date: 10, time: 11, datetime: 12, varchar: 15, newdecimal: 246 } as const;
const FIELD_NAMES: Record<number, string> = {
  7: 'TIMESTAMP',
  10: 'DATE',
  11: 'TIME',
  12: 'DATETIME',
  13: 'YEAR',
  14: 'DATE',
  15: 'VARCHAR',
  16: 'BIT',
  17: 'TIMESTAMP',
  18: 'DATETIME',
  19: 'TIME',
  246: 'DECIMAL',
  247: 'ENUM',
  248: 'SET',
  249: 'TINYBLOB',
  250: 'MEDIUMBLOB',
  251: 'LONGBLOB',
  252: 'BLOB',
  253: 'VARBINARY',
  254: 'BINARY',
  255: 'GEOMETRY',
};

/** A value SQL cannot rebuild exactly; the message names its MySQL type. */
export class UnrepresentableJson extends Error {}

/** Decodes a binary JSON document (the column's bytes). */
export function decodeBinaryJson(buf: Buffer): JsonNode {
  if (buf.length === 0) throw new Error('empty binary JSON value');
  return valueAt(buf, buf[0], 1);
}

/** A value of `type` whose bytes start at `at` (for objects and arrays: their header). */
function valueAt(buf: Buffer, type: number, at: number): JsonNode {
  switch (type) {
    case SMALL_OBJECT:
    case LARGE_OBJECT:
      return container(buf, at, type === LARGE_OBJECT, true);
    case SMALL_ARRAY:
    case LARGE_ARRAY:
      return container(buf, at, type === LARGE_ARRAY, false);
    case LITERAL:
      return { t: 'literal', v: literal(buf[at]) };
    case INT16:
      return { t: 'int', v: BigInt(buf.readInt16LE(at)) };
    case UINT16:
      return { t: 'uint', v: BigInt(buf.readUInt16LE(at)) };
    case INT32:
      return { t: 'int', v: BigInt(buf.readInt32LE(at)) };
    case UINT32:
      return { t: 'uint', v: BigInt(buf.readUInt32LE(at)) };
    case INT64:
      return { t: 'int', v: buf.readBigInt64LE(at) };
    case UINT64:
      return { t: 'uint', v: buf.readBigUInt64LE(at) };
    case DOUBLE:
      return { t: 'double', v: buf.readDoubleLE(at) };
    case STRING: {
      const [len, from] = varLength(buf, at);
      return { t: 'string', v: buf.toString('utf8', from, from + len) };
    }
    case OPAQUE: {
      const fieldType = buf[at];
      const [len, from] = varLength(buf, at + 1);
      return { t: 'opaque', type: fieldType, data: Buffer.from(buf.subarray(from, from + len)) };
    }
    default:
      throw new Error(`binary JSON: unknown value type 0x${type.toString(16)} at byte ${at}`);
  }
}

function literal(b: number): null | true | false {
  if (b === 0) return null;
  if (b === 1) return true;
  if (b === 2) return false;
  throw new Error(`binary JSON: unknown literal ${b}`);
}

/** Lengths of strings and opaque values: 7 bits a byte, low bits first, high bit = more follows. */
function varLength(buf: Buffer, at: number): [number, number] {
  let len = 0;
  for (let i = 0; i < 5; i++) {
    const b = buf[at + i];
    len += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [len, at + i + 1];
  }
  throw new Error(`binary JSON: bad length at byte ${at}`);
}

/**
 * An object or array at `start`: element count, byte size, then (objects) key entries of
 * offset and length, then value entries of type and offset, the offsets counted from `start`.
 * Small values sit in the value entry itself: literals and 16-bit integers, and in large
 * containers 32-bit integers too.
 */
function container(buf: Buffer, start: number, large: boolean, isObject: boolean): JsonNode {
  const offSize = large ? 4 : 2;
  const read = (at: number) => (large ? buf.readUInt32LE(at) : buf.readUInt16LE(at));
  const count = read(start);
  const keyEntries = start + 2 * offSize;
  const valueEntries = keyEntries + (isObject ? count * (offSize + 2) : 0);
  const values: JsonNode[] = [];
  for (let i = 0; i < count; i++) {
    const entry = valueEntries + i * (1 + offSize);
    const type = buf[entry];
    const inlined =
      type === LITERAL || type === INT16 || type === UINT16 || (large && (type === INT32 || type === UINT32));
    values.push(valueAt(buf, type, inlined ? entry + 1 : start + read(entry + 1)));
  }
  if (!isObject) return { t: 'array', items: values };
  const entries: [string, JsonNode][] = [];
  for (let i = 0; i < count; i++) {
    const entry = keyEntries + i * (offSize + 2);
    const keyAt = start + read(entry);
    const keyLength = buf.readUInt16LE(entry + offSize);
    entries.push([buf.toString('utf8', keyAt, keyAt + keyLength), values[i]]);
  }
  return { t: 'object', entries };
}

// ---- Back to SQL -----------------------------------------------------------------------

/** A double as JSON text that parses back to the same double: with a fraction or an exponent. */
export function doubleText(v: number): string {
  if (!Number.isFinite(v)) throw new UnrepresentableJson(`a JSON double ${v}`);
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** JSON text of a document with no opaque or unsigned values (see needsSql). */
export function jsonText(n: JsonNode): string {
  switch (n.t) {
    case 'object':
      return `{${n.entries.map(([k, v]) => `${JSON.stringify(k)}: ${jsonText(v)}`).join(', ')}}`;
    case 'array':
      return `[${n.items.map(jsonText).join(', ')}]`;
    case 'string':
      return JSON.stringify(n.v);
    case 'int':
    case 'uint':
      return n.v.toString();
    case 'double':
      return doubleText(n.v);
    case 'literal':
      return String(n.v);
    case 'opaque':
      return JSON.stringify(opaqueText(n));
  }
}

/** Whether text would lose the value's type: an opaque value, or an unsigned one (text reads as signed). */
function needsSql(n: JsonNode): boolean {
  switch (n.t) {
    case 'object':
      return n.entries.some(([, v]) => needsSql(v));
    case 'array':
      return n.items.some(needsSql);
    case 'opaque':
      return true;
    case 'uint':
      return n.v <= 0x7fffffffffffffffn;
    default:
      return false;
  }
}

/**
 * The SQL that makes this document in a JSON column (or, in a column the ALTER made text, the
 * text MySQL prints for it, as the copy's INSERT … SELECT writes). `approximate`: values no
 * SQL can make are written as their text instead of refused (--allow-data-loss).
 */
export function jsonValueSql(n: JsonNode, approximate = false): SqlExpression {
  return new SqlExpression(...build(n, approximate), jsonText(n));
}

function build(n: JsonNode, approximate: boolean): [string, unknown[]] {
  if (!needsSql(n)) return ['CAST(? AS JSON)', [jsonText(n)]];
  const parts = (list: [string, unknown[]][]): [string, unknown[]] => [
    list.map((p) => p[0]).join(', '),
    list.flatMap((p) => p[1]),
  ];
  switch (n.t) {
    case 'object': {
      const [sqlText, params] = parts(
        n.entries.flatMap(([k, v]) => [['?', [k]] as [string, unknown[]], build(v, approximate)]),
      );
      return [`JSON_OBJECT(${sqlText})`, params];
    }
    case 'array': {
      const [sqlText, params] = parts(n.items.map((v) => build(v, approximate)));
      return [`JSON_ARRAY(${sqlText})`, params];
    }
    case 'uint':
      return ['CAST(? AS UNSIGNED)', [n.v.toString()]];
    case 'opaque':
      return opaqueSql(n, approximate);
    default:
      throw new Error('unreachable');
  }
}

function opaqueSql(n: { type: number; data: Buffer }, approximate: boolean): [string, unknown[]] {
  switch (n.type) {
    case FIELD.newdecimal:
      return [`CAST(? AS DECIMAL(${n.data[0]}, ${n.data[1]}))`, [decimalText(n.data)]];
    case FIELD.date:
      return ['CAST(? AS DATE)', [packedDateTime(n.data, false)]];
    case FIELD.datetime:
      return ['CAST(? AS DATETIME(6))', [packedDateTime(n.data, true)]];
    case FIELD.time:
      return ['CAST(? AS TIME(6))', [packedTime(n.data)]];
    // A binary string in a document: CAST(… AS BINARY) is the VARCHAR kind (base64:type15).
    case FIELD.varchar:
      return ['CAST(? AS BINARY)', [n.data]];
  }
  const name = FIELD_NAMES[n.type] ?? `field type ${n.type}`;
  if (approximate) return ['CAST(? AS JSON)', [JSON.stringify(opaqueText(n))]];
  throw new UnrepresentableJson(
    `a JSON document holds a MySQL ${name} value (JSON_TYPE ${name}), which no SQL expression can rebuild ` +
      `from the binlog: revenant would write it as a string, ${JSON.stringify(opaqueText(n)).slice(0, 80)}`,
  );
}

/** What MySQL prints for an opaque value. */
function opaqueText(n: { type: number; data: Buffer }): string {
  switch (n.type) {
    case FIELD.newdecimal:
      return decimalText(n.data);
    case FIELD.date:
      return packedDateTime(n.data, false);
    case FIELD.datetime:
    case FIELD.timestamp:
      return packedDateTime(n.data, true);
    case FIELD.time:
      return packedTime(n.data);
    default:
      return `base64:type${n.type}:${n.data.toString('base64')}`;
  }
}

const pad = (v: number | bigint, width: number) => String(v).padStart(width, '0');

/** DATETIME and DATE packed in 64 bits: ((year*13+month)<<5 | day) <<17 | hms, then <<24 | microseconds. */
function packedDateTime(data: Buffer, withTime: boolean): string {
  let packed = data.readBigInt64LE(0);
  if (packed < 0n) packed = -packed;
  const micro = packed % (1n << 24n);
  const whole = packed >> 24n;
  const ymd = whole >> 17n,
    hms = whole % (1n << 17n);
  const ym = ymd >> 5n;
  const date = `${pad(ym / 13n, 4)}-${pad(ym % 13n, 2)}-${pad(ymd % 32n, 2)}`;
  if (!withTime) return date;
  return `${date} ${pad(hms >> 12n, 2)}:${pad((hms >> 6n) % 64n, 2)}:${pad(hms % 64n, 2)}.${pad(micro, 6)}`;
}

/** TIME packed in 64 bits: (hour<<12 | minute<<6 | second) <<24 | microseconds, negated when negative. */
function packedTime(data: Buffer): string {
  let packed = data.readBigInt64LE(0);
  const sign = packed < 0n ? '-' : '';
  if (packed < 0n) packed = -packed;
  const micro = packed % (1n << 24n);
  const hms = packed >> 24n;
  return `${sign}${pad((hms >> 12n) % (1n << 10n), 2)}:${pad((hms >> 6n) % 64n, 2)}:${pad(hms % 64n, 2)}.${pad(micro, 6)}`;
}

const DIGIT_BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/**
 * A DECIMAL in MySQL's binary form (precision, scale, then the digits: nine to four bytes,
 * big-endian, the leftover digits in fewer; the sign in the first bit, inverted; a negative
 * number's bytes all inverted).
 */
export function decimalText(data: Buffer): string {
  const precision = data[0],
    scale = data[1];
  const bytes = Buffer.from(data.subarray(2));
  const negative = (bytes[0] & 0x80) === 0;
  bytes[0] ^= 0x80;
  if (negative) for (let i = 0; i < bytes.length; i++) bytes[i] ^= 0xff;
  const intDigits = precision - scale;
  let at = 0;
  const group = (digits: number): string => {
    const size = DIGIT_BYTES[digits];
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + bytes[at + i];
    at += size;
    return pad(v, digits);
  };
  let intPart = '';
  if (intDigits % 9) intPart += group(intDigits % 9);
  for (let i = 0; i < Math.floor(intDigits / 9); i++) intPart += group(9);
  let fracPart = '';
  for (let i = 0; i < Math.floor(scale / 9); i++) fracPart += group(9);
  if (scale % 9) fracPart += group(scale % 9);
  intPart = intPart.replace(/^0+(?=\d)/, '') || '0';
  return `${negative ? '-' : ''}${intPart}${scale ? `.${fracPart}` : ''}`;
}
