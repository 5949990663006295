// The latin1 fast path (binlog/latin1.ts): zongji's decoding of latin1 columns gives the same
// text with it as without it, for every byte, and takes the fast path for text that allows it.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import iconv from 'iconv-lite';
import { fastLatin1 } from '../../binlog/latin1';

test("latin1 values decode as iconv-lite's cp1252 does, through zongji, for every byte", async () => {
  const before = iconv.decode;
  const samples = [
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    Buffer.from(Array.from({ length: 128 }, (_, i) => i)),
    Buffer.from(Array.from({ length: 96 }, (_, i) => 160 + i)),
    Buffer.from('plain ascii text 0123456789', 'latin1'),
    Buffer.from([0x80, 0x41]),
    Buffer.from([0x9f]),
    Buffer.alloc(0),
  ];
  const expected = samples.map((b) => before(b, 'cp1252', { stripBOM: false }));
  fastLatin1();
  assert.notEqual(iconv.decode, before, 'installed');
  // zongji's own decoder of text columns, as the streamer's rows go through it.
  const common = join(dirname(require.resolve('@vlasky/zongji')), 'lib', 'common.js');
  const { decodeTextColumn } = (await import(pathToFileURL(common).href)) as {
    decodeTextColumn: (b: Buffer, charset: string) => string;
  };
  // zongji calls the same iconv-lite (the one package.json pins), so it takes the fast path: counted here.
  const installed = iconv.decode;
  let calls = 0;
  iconv.decode = ((...args: Parameters<typeof iconv.decode>) => {
    calls++;
    return installed(...args);
  }) as typeof iconv.decode;
  for (const [i, b] of samples.entries()) assert.equal(decodeTextColumn(b, 'latin1'), expected[i], `sample ${i}`);
  assert.equal(calls, samples.length, 'zongji decodes through the iconv-lite this process patched');
  iconv.decode = installed;
  // Other charsets are iconv-lite's as before.
  assert.equal(decodeTextColumn(Buffer.from([0xe9]), 'latin2'), before(Buffer.from([0xe9]), 'latin2'));
});
