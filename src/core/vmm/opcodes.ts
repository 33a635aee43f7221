/**
 * bhyve's opcode tables (sys/amd64/vmm/vmm_instruction_emul.c: one_byte_opcodes[],
 * two_byte_opcodes[]), as plain data. Sparse: every byte not listed has op_type
 * VIE_OP_TYPE_NONE, which makes decode_opcode() fail, and that is how bhyve's emulator gives
 * up on an instruction it does not know.
 */
import type { VieOp } from './vie';

/** bhyve's enum vie_op_type (same order as vmm_instruction_emul.c). */
export const VIE_OP_TYPE_NONE = 0;
export const VIE_OP_TYPE_MOV = 1;
export const VIE_OP_TYPE_MOVSX = 2;
export const VIE_OP_TYPE_MOVZX = 3;
export const VIE_OP_TYPE_AND = 4;
export const VIE_OP_TYPE_OR = 5;
export const VIE_OP_TYPE_SUB = 6;
export const VIE_OP_TYPE_TWO_BYTE = 7;
export const VIE_OP_TYPE_PUSH = 8;
export const VIE_OP_TYPE_CMP = 9;
export const VIE_OP_TYPE_POP = 10;
export const VIE_OP_TYPE_MOVS = 11;
export const VIE_OP_TYPE_GROUP1 = 12;
export const VIE_OP_TYPE_STOS = 13;
export const VIE_OP_TYPE_BITTEST = 14;
export const VIE_OP_TYPE_TWOB_GRP15 = 15;
export const VIE_OP_TYPE_ADD = 16;
export const VIE_OP_TYPE_TEST = 17;

export const VIE_OP_TYPE_NAMES: readonly string[] = [
  'none', 'mov', 'movsx', 'movzx', 'and', 'or', 'sub', 'two-byte', 'push', 'cmp', 'pop',
  'movs', 'group1', 'stos', 'bittest', 'twob-grp15', 'add', 'test',
];

/** bhyve's VIE_OP_F_* flags. */
/** 16/32-bit immediate operand (sign-extended to 64 with REX.W). */
export const VIE_OP_F_IMM = 1 << 0;
/** 8-bit immediate operand. */
export const VIE_OP_F_IMM8 = 1 << 1;
/** 16/32/64-bit immediate memory offset (size follows the address size). */
export const VIE_OP_F_MOFFSET = 1 << 2;
/** No ModRM byte. */
export const VIE_OP_F_NO_MODRM = 1 << 3;
/** The exit's GLA is not the operand's (string instructions): skip verify_gla. */
export const VIE_OP_F_NO_GLA_VERIFICATION = 1 << 4;

function table(entries: readonly VieOp[]): readonly VieOp[] {
  const t: VieOp[] = [];
  for (let b = 0; b < 256; b++) t.push({ op_byte: b, op_type: VIE_OP_TYPE_NONE, op_flags: 0 });
  for (const e of entries) t[e.op_byte] = e;
  return t;
}

/** two_byte_opcodes[]: the byte after the 0x0F escape. */
export const TWO_BYTE_OPCODES: readonly VieOp[] = table([
  { op_byte: 0xae, op_type: VIE_OP_TYPE_TWOB_GRP15, op_flags: 0 }, // group 15: clflush(opt)/sfence
  { op_byte: 0xb6, op_type: VIE_OP_TYPE_MOVZX, op_flags: 0 },
  { op_byte: 0xb7, op_type: VIE_OP_TYPE_MOVZX, op_flags: 0 },
  { op_byte: 0xba, op_type: VIE_OP_TYPE_BITTEST, op_flags: VIE_OP_F_IMM8 }, // group 8: bt only
  { op_byte: 0xbe, op_type: VIE_OP_TYPE_MOVSX, op_flags: 0 },
]);

/** one_byte_opcodes[]. */
export const ONE_BYTE_OPCODES: readonly VieOp[] = table([
  { op_byte: 0x03, op_type: VIE_OP_TYPE_ADD, op_flags: 0 },
  { op_byte: 0x0b, op_type: VIE_OP_TYPE_OR, op_flags: 0 },
  { op_byte: 0x0f, op_type: VIE_OP_TYPE_TWO_BYTE, op_flags: 0 },
  { op_byte: 0x23, op_type: VIE_OP_TYPE_AND, op_flags: 0 },
  { op_byte: 0x2b, op_type: VIE_OP_TYPE_SUB, op_flags: 0 },
  { op_byte: 0x39, op_type: VIE_OP_TYPE_CMP, op_flags: 0 },
  { op_byte: 0x3b, op_type: VIE_OP_TYPE_CMP, op_flags: 0 },
  { op_byte: 0x80, op_type: VIE_OP_TYPE_GROUP1, op_flags: VIE_OP_F_IMM8 }, // group 1
  { op_byte: 0x81, op_type: VIE_OP_TYPE_GROUP1, op_flags: VIE_OP_F_IMM }, // group 1
  { op_byte: 0x83, op_type: VIE_OP_TYPE_GROUP1, op_flags: VIE_OP_F_IMM8 }, // group 1
  { op_byte: 0x88, op_type: VIE_OP_TYPE_MOV, op_flags: 0 },
  { op_byte: 0x89, op_type: VIE_OP_TYPE_MOV, op_flags: 0 },
  { op_byte: 0x8a, op_type: VIE_OP_TYPE_MOV, op_flags: 0 },
  { op_byte: 0x8b, op_type: VIE_OP_TYPE_MOV, op_flags: 0 },
  { op_byte: 0x8f, op_type: VIE_OP_TYPE_POP, op_flags: 0 }, // XXX group 1A: not just POP
  { op_byte: 0xa1, op_type: VIE_OP_TYPE_MOV, op_flags: VIE_OP_F_MOFFSET | VIE_OP_F_NO_MODRM },
  { op_byte: 0xa3, op_type: VIE_OP_TYPE_MOV, op_flags: VIE_OP_F_MOFFSET | VIE_OP_F_NO_MODRM },
  { op_byte: 0xa4, op_type: VIE_OP_TYPE_MOVS, op_flags: VIE_OP_F_NO_MODRM | VIE_OP_F_NO_GLA_VERIFICATION },
  { op_byte: 0xa5, op_type: VIE_OP_TYPE_MOVS, op_flags: VIE_OP_F_NO_MODRM | VIE_OP_F_NO_GLA_VERIFICATION },
  { op_byte: 0xaa, op_type: VIE_OP_TYPE_STOS, op_flags: VIE_OP_F_NO_MODRM | VIE_OP_F_NO_GLA_VERIFICATION },
  { op_byte: 0xab, op_type: VIE_OP_TYPE_STOS, op_flags: VIE_OP_F_NO_MODRM | VIE_OP_F_NO_GLA_VERIFICATION },
  { op_byte: 0xc6, op_type: VIE_OP_TYPE_MOV, op_flags: VIE_OP_F_IMM8 }, // XXX group 11: not just MOV
  { op_byte: 0xc7, op_type: VIE_OP_TYPE_MOV, op_flags: VIE_OP_F_IMM },
  { op_byte: 0xf7, op_type: VIE_OP_TYPE_TEST, op_flags: VIE_OP_F_IMM }, // XXX group 3: not just TEST
  { op_byte: 0xff, op_type: VIE_OP_TYPE_PUSH, op_flags: 0 }, // XXX group 5: not just PUSH
]);
