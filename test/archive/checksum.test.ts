import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { MurmurRowChecksum, Sha256RowChecksum, murmur3, rowChecksum } from '../../lib/archive/format';

/** Row lines of every tail length (0 to 3 bytes past a 4-byte block), multi-byte UTF-8, tabs and escapes as COPY writes them. */
const ROWS = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', '1\tname 1\t\\N\t2026-01-01 00:00:00+00', 'żółć 日本 🎉\t\\\\N', '["1",null,"x"]'];

describe('archive row checksums', () => {
  it('MurmurHash3_x86_32 (the hash of format version 2) matches published values', () => {
    const h = (text: string, seed: number) => murmur3(Buffer.from(text), seed);
    expect(h('', 0)).to.equal(0);
    expect(h('', 1)).to.equal(0x514e28b7);
    expect(h('test', 0)).to.equal(0xba6bd213);
    expect(h('Hello, world!', 0x9747b28c)).to.equal(0x24884cba);
    expect(h('The quick brown fox jumps over the lazy dog', 0x9747b28c)).to.equal(0x2fa826cd);
  });

  it('version 2: four sums modulo 2^32 of MurmurHash3 per row, seeds 0 to 3, independent of row order', () => {
    const sum = new MurmurRowChecksum();
    for (const row of ROWS) sum.update(Buffer.from(`${row}\n`));
    const expected = [0, 1, 2, 3].map((seed) => ROWS.reduce((acc, row) => (acc + murmur3(Buffer.from(row), seed)) >>> 0, 0).toString(16).padStart(8, '0')).join('');
    expect(sum.summary()).to.deep.equal({ rows: ROWS.length, checksum: expected });
    const reversed = new MurmurRowChecksum();
    for (const row of [...ROWS].reverse()) reversed.update(Buffer.from(`${row}\n`));
    expect(reversed.summary().checksum).to.equal(expected);
    const changed = new MurmurRowChecksum();
    for (const row of ROWS) changed.update(Buffer.from(`${row.replace('1', '2')}\n`));
    expect(changed.summary().checksum).to.not.equal(expected);
  });

  it('version 1: the sums modulo 2^64 of the first 16 bytes of SHA-256 per row, as two little-endian halves', () => {
    const sum = rowChecksum(1);
    expect(sum).to.be.instanceOf(Sha256RowChecksum);
    for (const row of ROWS) sum.update(Buffer.from(`${row}\n`));
    let low = 0n;
    let high = 0n;
    for (const row of ROWS) {
      const digest = createHash('sha256').update(row).digest();
      low = (low + digest.readBigUInt64LE(0)) % 2n ** 64n;
      high = (high + digest.readBigUInt64LE(8)) % 2n ** 64n;
    }
    expect(sum.summary()).to.deep.equal({ rows: ROWS.length, checksum: low.toString(16).padStart(16, '0') + high.toString(16).padStart(16, '0') });
  });

  it('rows cut anywhere across chunks sum as whole rows (both versions)', () => {
    const bytes = Buffer.from(ROWS.map((row) => `${row}\n`).join('').repeat(3));
    for (const version of [1, 2]) {
      const whole = rowChecksum(version);
      whole.update(bytes);
      const expected = whole.summary();
      for (const size of [1, 2, 3, 5, 7, 64]) {
        const cut = rowChecksum(version);
        for (let at = 0; at < bytes.length; at += size) cut.update(bytes.subarray(at, at + size));
        expect(cut.summary(), `version ${version}, chunks of ${size}`).to.deep.equal(expected);
      }
    }
  });
});
