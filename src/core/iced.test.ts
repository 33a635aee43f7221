import { describe, expect, it } from 'vitest';
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Mnemonic } from './iced';

describe('iced loader', () => {
  it('decodes and formats x86-64 in Node', () => {
    const decoder = new Decoder(64, new Uint8Array([0x48, 0x89, 0xd8]), DecoderOptions.None);
    const insn = decoder.decode();
    const formatter = new Formatter(FormatterSyntax.Intel);
    expect(insn.mnemonic).toBe(Mnemonic.Mov);
    expect(formatter.format(insn)).toBe('mov rax,rbx');
    insn.free();
    decoder.free();
    formatter.free();
  });
});
