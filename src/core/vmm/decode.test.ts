import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bhyveDecode, DECODE_INCOMPLETE, DECODE_OK, DECODE_UNSUPPORTED, VieDecoder } from './decode';
import {
  VIE_OP_F_NO_GLA_VERIFICATION, VIE_OP_TYPE_BITTEST, VIE_OP_TYPE_GROUP1, VIE_OP_TYPE_MOV,
  VIE_OP_TYPE_MOVS, VIE_OP_TYPE_MOVZX,
} from './opcodes';
import { newVie, vieInit, VM_REG_GUEST_RIP, VM_REG_LAST, SEG_FS } from './vie';
import { Decoder, DecoderOptions, Instruction } from '../iced';

const dec = new VieDecoder();

function decode(bytes: number[], rip = 0x100000) {
  const vie = newVie();
  vieInit(vie, new Uint8Array(bytes), bytes.length);
  const st = dec.decode(vie, rip, true);
  return { st, vie };
}

describe('decode (bhyve vmm_decode_instruction with iced alongside)', () => {
  it('decodes mov dword [rax], ecx (89 /r) into the vie fields', () => {
    const { st, vie } = decode([0x89, 0x08]);
    expect(st).toBe(DECODE_OK);
    expect(vie.op.op_type).toBe(VIE_OP_TYPE_MOV);
    expect(vie).toMatchObject({ opsize: 4, addrsize: 8, mod: 0, reg: 1, rm: 0, base_register: 0, num_processed: 2 });
    expect(vie.disasm).toBe('mov [rax], ecx');
  });

  it('applies REX.W/R/B, SIB with REX.X, disp8', () => {
    // 4F 89 44 E5 10: mov [r13 + r12*8 + 0x10], r8
    const { st, vie } = decode([0x4f, 0x89, 0x44, 0xe5, 0x10]);
    expect(st).toBe(DECODE_OK);
    expect(vie).toMatchObject({
      rex_w: 1, rex_r: 1, rex_x: 1, rex_b: 1, opsize: 8, reg: 8,
      base_register: 13, index_register: 12, scale: 8, displacement: 0x10, disp_bytes: 1,
    });
  });

  it('treats mod=0 r/m=5 as RIP-relative in 64-bit mode', () => {
    const { st, vie } = decode([0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff]);
    expect(st).toBe(DECODE_OK);
    expect(vie.base_register).toBe(VM_REG_GUEST_RIP);
    expect(vie.displacement).toBe(-16);
  });

  it('has no base for SIB base=5 with mod=0, and no index for index=4', () => {
    // 8B 04 25 80 00 E0 FE: mov eax, [0xfffffffffee00080]
    const { st, vie } = decode([0x8b, 0x04, 0x25, 0x80, 0x00, 0xe0, 0xfe]);
    expect(st).toBe(DECODE_OK);
    expect(vie.base_register).toBe(VM_REG_LAST);
    expect(vie.index_register).toBe(VM_REG_LAST);
    expect(vie.scale).toBe(0);
    expect(vie.displacement).toBe(0xfee00080 - 2 ** 32);
  });

  it('reads prefixes: 66 opsize, 67 addrsize, segment override, rep', () => {
    expect(decode([0x66, 0x89, 0x08]).vie.opsize).toBe(2);
    expect(decode([0x67, 0x89, 0x08]).vie.addrsize).toBe(4);
    const fs = decode([0x64, 0x89, 0x08]).vie;
    expect(fs.segment_override).toBe(1);
    expect(fs.segment_register).toBe(SEG_FS);
    const rep = decode([0xf3, 0x48, 0xab]).vie;
    expect(rep).toMatchObject({ repz_present: 1, opsize: 8 });
    expect(rep.op.op_flags & VIE_OP_F_NO_GLA_VERIFICATION).toBeTruthy();
  });

  it('sign-extends immediates: imm8 (83), imm32 (81/C7), imm16 with 66', () => {
    expect(decode([0x83, 0x08, 0xff]).vie.immediate).toBe(-1);
    expect(decode([0x83, 0x08, 0xff]).vie.op.op_type).toBe(VIE_OP_TYPE_GROUP1);
    expect(decode([0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80]).vie.immediate).toBe(-(2 ** 31));
    const w = decode([0x66, 0xc7, 0x00, 0x34, 0x12]).vie;
    expect(w.imm_bytes).toBe(2);
    expect(w.immediate).toBe(0x1234);
  });

  it('reads a 64-bit moffset (A1/A3) as a canonical number', () => {
    const { st, vie } = decode([0xa1, 0x80, 0x00, 0xe0, 0xfe, 0xff, 0xff, 0xff, 0xff]);
    expect(st).toBe(DECODE_OK);
    expect(vie.displacement).toBe(0xfee00080 - 2 ** 32);
    expect(vie.num_processed).toBe(9);
  });

  it('decodes the two-byte opcodes: movzx, bt imm8', () => {
    expect(decode([0x0f, 0xb6, 0x08]).vie.op.op_type).toBe(VIE_OP_TYPE_MOVZX);
    const bt = decode([0x0f, 0xba, 0x20, 0x05]).vie;
    expect(bt.op.op_type).toBe(VIE_OP_TYPE_BITTEST);
    expect(bt.immediate).toBe(5);
    expect(decode([0xa5]).vie.op.op_type).toBe(VIE_OP_TYPE_MOVS);
  });

  it('gives up like bhyve on opcodes its tables lack, naming the instruction', () => {
    const xor = decode([0x31, 0x08]);
    expect(xor.st).toBe(DECODE_UNSUPPORTED);
    expect(xor.vie.disasm).toBe('xor [rax], ecx');
    expect(decode([0xf0, 0x09, 0x08]).st).toBe(DECODE_UNSUPPORTED); // lock or: F0 is no prefix to bhyve
    expect(decode([0x89, 0xc8]).st).toBe(DECODE_UNSUPPORTED); // mod = 3: no memory operand
    expect(decode([0x0f, 0xbf, 0x08]).st).toBe(DECODE_UNSUPPORTED); // movsx r32, m16 is not in bhyve
  });

  it('reports an instruction cut short as incomplete', () => {
    expect(decode([0x89, 0x88, 0x78]).st).toBe(DECODE_INCOMPLETE);
  });

  it('agrees with iced on the length of every supported encoding (property)', () => {
    const insn = new Instruction();
    const opcodes = [0x03, 0x0b, 0x23, 0x2b, 0x39, 0x3b, 0x80, 0x81, 0x83, 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xf7, 0xff, 0x8f];
    fc.assert(fc.property(
      fc.constantFrom(...opcodes), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ minLength: 10, maxLength: 10 }), fc.constantFrom([], [0x66], [0x48], [0x41], [0x4c], [0x67]),
      (op, modrm, sib, rest, prefix) => {
        const bytes = [...prefix, op, modrm, sib, ...rest].slice(0, 15);
        const vie = newVie();
        vieInit(vie, new Uint8Array(bytes), bytes.length);
        if (op === 0xf7 && ((modrm >> 3) & 7) !== 0) return; // bhyve's F7 entry is TEST only
        // bhyve's 8F entry does not look at the reg field ("XXX group 1A: not just POP"); with
        // reg != 0 the bytes are AMD's XOP prefix (iced decodes them so) or #UD on Intel, which
        // faults in the guest before any exit reaches the VMM.
        if (op === 0x8f && ((modrm >> 3) & 7) !== 0) return;
        if (bhyveDecode(vie) !== 0) return; // e.g. mod = 3
        const d = new Decoder(64, new Uint8Array(bytes), DecoderOptions.None);
        d.decodeOut(insn);
        d.free();
        if (insn.isInvalid) return;
        expect(vie.num_processed).toBe(insn.length);
      },
    ), { numRuns: 2000 });
    insn.free();
  });
});
