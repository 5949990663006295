// Key values travel through JSON (checkpoints, heartbeats) and back into SQL parameters.
// Binary values keep their bytes, and integer keys go back as BigInt so that a BIGINT
// bound is never compared as a double.
import type { SharedKey } from '../model/types';

export type EncodedValue = string | number | null | { b64: string };
export type EncodedKey = EncodedValue[];

export function encodeKey(values: unknown[]): EncodedKey {
  return values.map((v) => {
    if (v === null || v === undefined) return null;
    if (Buffer.isBuffer(v)) return { b64: v.toString('base64') };
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number' || typeof v === 'string') return v;
    throw new Error(`unsupported key value of type ${typeof v}`);
  });
}

export function decodeKey(key: SharedKey, encoded: EncodedKey): unknown[] {
  return encoded.map((v, i) => {
    if (v !== null && typeof v === 'object') return Buffer.from(v.b64, 'base64');
    if (key.integer[i] && v !== null) return BigInt(v);
    return v;
  });
}

/** Values of the key columns of a row, in key order. */
export function keyOf(row: Record<string, unknown>, columns: string[]): unknown[] {
  return columns.map((c) => row[c]);
}

export function sameKey(a: EncodedKey, b: EncodedKey): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
