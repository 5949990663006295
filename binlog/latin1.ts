// zongji decodes a latin1 column's bytes with iconv-lite's cp1252 decoder (MySQL's latin1 is
// Windows-1252), which allocates a zero-filled buffer twice the value's length for every value
// and copies it byte by byte: a fifth of the worker's CPU while it applies a sysbench load (a
// profile of the benchmark's worker, bench.ts --worker-node-args). Bytes outside 0x80-0x9F
// mean the same in cp1252 and ISO-8859-1, which Node decodes natively: a value with none of
// those (text in ASCII, and most Western text) goes that way, any other through iconv-lite as
// before. iconv-lite is the one zongji imports (package.json pins the version zongji pins).
import iconv from 'iconv-lite';

/** iconv-lite's own decode, for every other value and charset. */
const iconvDecode = iconv.decode;
let installed = false;

/** Whether the bytes hold one that cp1252 and ISO-8859-1 read differently. */
function hasC1(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80 && bytes[i] <= 0x9f) return true;
  return false;
}

/** Installs the fast path, once per process: the binlog streamer calls it before zongji decodes. */
export function fastLatin1(): void {
  if (installed) return;
  installed = true;
  iconv.decode = ((bytes: Buffer, encoding: string, options?: Parameters<typeof iconv.decode>[2]) =>
    encoding === 'cp1252' && Buffer.isBuffer(bytes) && !hasC1(bytes)
      ? bytes.toString('latin1')
      : iconvDecode(bytes, encoding, options)) as typeof iconv.decode;
}
