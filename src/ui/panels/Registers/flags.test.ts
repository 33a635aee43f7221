import { describe, expect, it } from 'vitest';
import { CR0_BITS, changedKeys, decodeBits, decodeRflags, groupHex, iopl } from './flags';

describe('flag decoding', () => {
  it('decodes RFLAGS into CF PF AF ZF SF TF IF DF OF', () => {
    const on = decodeRflags('0x246').filter((b) => b.on).map((b) => b.name);
    expect(on).toEqual(['PF', 'ZF', 'IF']);
    expect(decodeRflags('0x0000000000000202').map((b) => b.name)).toEqual(['CF', 'PF', 'AF', 'ZF', 'SF', 'TF', 'IF', 'DF', 'OF']);
    expect(decodeRflags(0x895).filter((b) => b.on).map((b) => b.name)).toEqual(['CF', 'PF', 'AF', 'SF', 'OF']);
    expect(iopl('0x3202')).toBe(3);
  });
  it('decodes control registers and survives a malformed value', () => {
    expect(decodeBits('0x80010033', CR0_BITS).filter((b) => b.on).map((b) => b.name)).toEqual(['PE', 'MP', 'ET', 'NE', 'WP', 'PG']);
    expect(decodeRflags('junk').every((b) => !b.on)).toBe(true);
  });
});

describe('register diff', () => {
  it('lists the registers whose value changed', () => {
    expect([...changedKeys({ rax: '0x1', rbx: '0x2' }, { rax: '0x1', rbx: '0x3' })]).toEqual(['rbx']);
    expect(changedKeys(null, { rax: '0x1' }).size).toBe(0);
  });
  it('groups hex digits by four', () => {
    expect(groupHex('0xff')).toBe('0x0000_0000_0000_00ff');
    expect(groupHex('n/a')).toBe('n/a');
  });
});
