/**
 * The decoded-instruction record, mirroring bhyve's `struct vie` (sys/amd64/include/vmm.h):
 * plain data, numbers only, so it can be copied into an instruction-cache entry and shown by
 * the UI. Field names are bhyve's, so a reader can hold this file next to vmm.h.
 *
 * As in bhyve, the part after `num_processed` is "reset on restart": vie_init() zeroes it
 * before every decode (here: `vieReset`). Differences from bhyve, all deliberate:
 * - `displacement` and `immediate` are JS numbers holding the signed 64-bit value. Every
 *   displacement and immediate the supported opcodes carry is at most 32 bits wide (sign-
 *   extended), and a 64-bit moffset is a canonical address, which DESIGN.md's numbers contract
 *   keeps exact (sign-extended 48-bit). A non-canonical moffset loses precision and fails
 *   verify_gla, as it should (the hardware would have raised #GP before exiting).
 * - No VEX fields: BEXTR (VEX 0F38 F7) is not in our table.
 * - `disasm` is not in struct vie: the Intel-syntax text of the instruction, for the UI.
 */

/** bhyve's VIE_INST_SIZE: the longest x86 instruction. */
export const VIE_INST_SIZE = 15;

/** bhyve's enum vm_reg_name, restricted to what the emulator touches. GPRs use x86 numbering. */
export const VM_REG_GUEST_RAX = 0;
export const VM_REG_GUEST_RCX = 1;
export const VM_REG_GUEST_RSP = 4;
export const VM_REG_GUEST_RBP = 5;
export const VM_REG_GUEST_RSI = 6;
export const VM_REG_GUEST_RDI = 7;
export const VM_REG_GUEST_RIP = 16;
/** bhyve's VM_REG_LAST: "no register". */
export const VM_REG_LAST = -1;

/** Segment registers in their x86 encoding (SDM Vol. 2A §3.1.1.3 "Sreg"). */
export const SEG_ES = 0;
export const SEG_CS = 1;
export const SEG_SS = 2;
export const SEG_DS = 3;
export const SEG_FS = 4;
export const SEG_GS = 5;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

/** ModRM.mod values (bhyve's VIE_MOD_*) and the special r/m encodings. */
export const VIE_MOD_INDIRECT = 0;
export const VIE_MOD_INDIRECT_DISP8 = 1;
export const VIE_MOD_INDIRECT_DISP32 = 2;
export const VIE_MOD_DIRECT = 3;
export const VIE_RM_SIB = 4;
export const VIE_RM_DISP32 = 5;

/** One opcode-table entry: bhyve's struct vie_op. */
export interface VieOp {
  op_byte: number;
  op_type: number;
  op_flags: number;
}

export interface Vie {
  /** Instruction bytes (fetched, handed over by decode assists, or cached). */
  inst: Uint8Array;
  num_valid: number;
  num_processed: number;
  // ---- reset on restart (vie_init) ----
  addrsize: number;
  opsize: number;
  rex_w: number;
  rex_r: number;
  rex_x: number;
  rex_b: number;
  rex_present: number;
  repz_present: number;
  repnz_present: number;
  opsize_override: number;
  addrsize_override: number;
  segment_override: number;
  mod: number;
  reg: number;
  rm: number;
  ss: number;
  index: number;
  base: number;
  disp_bytes: number;
  imm_bytes: number;
  scale: number;
  base_register: number;
  index_register: number;
  segment_register: number;
  displacement: number;
  immediate: number;
  decoded: number;
  op: VieOp;
  /** Intel-syntax text (iced's formatter); '' until formatted. Not part of bhyve's struct. */
  disasm: string;
}

/** A fresh record (one allocation: use once per decoder / cache entry, then reuse). */
export function newVie(): Vie {
  const vie: Vie = {
    inst: new Uint8Array(VIE_INST_SIZE),
    num_valid: 0,
    num_processed: 0,
    addrsize: 0, opsize: 0,
    rex_w: 0, rex_r: 0, rex_x: 0, rex_b: 0, rex_present: 0,
    repz_present: 0, repnz_present: 0,
    opsize_override: 0, addrsize_override: 0, segment_override: 0,
    mod: 0, reg: 0, rm: 0, ss: 0, index: 0, base: 0,
    disp_bytes: 0, imm_bytes: 0, scale: 0,
    base_register: VM_REG_LAST, index_register: VM_REG_LAST, segment_register: VM_REG_LAST,
    displacement: 0, immediate: 0, decoded: 0,
    op: { op_byte: 0, op_type: 0, op_flags: 0 },
    disasm: '',
  };
  return vie;
}

/** bhyve's vie_init minus the byte copy: everything from `num_processed` on is zeroed. */
export function vieReset(vie: Vie): void {
  vie.num_processed = 0;
  vie.addrsize = 0;
  vie.opsize = 0;
  vie.rex_w = vie.rex_r = vie.rex_x = vie.rex_b = vie.rex_present = 0;
  vie.repz_present = vie.repnz_present = 0;
  vie.opsize_override = vie.addrsize_override = vie.segment_override = 0;
  vie.mod = vie.reg = vie.rm = vie.ss = vie.index = vie.base = 0;
  vie.disp_bytes = vie.imm_bytes = vie.scale = 0;
  vie.base_register = VM_REG_LAST;
  vie.index_register = VM_REG_LAST;
  vie.segment_register = VM_REG_LAST;
  vie.displacement = 0;
  vie.immediate = 0;
  vie.decoded = 0;
  vie.op.op_byte = 0;
  vie.op.op_type = 0;
  vie.op.op_flags = 0;
  vie.disasm = '';
}

/** bhyve's vie_init: reset and take `len` instruction bytes (decode assists, fetch). */
export function vieInit(vie: Vie, bytes: Uint8Array, len: number): void {
  vieReset(vie);
  vie.inst.fill(0);
  const n = Math.min(len, VIE_INST_SIZE);
  for (let i = 0; i < n; i++) vie.inst[i] = bytes[i];
  vie.num_valid = n;
}

/** Copy every field of `src` into `dst` (the cache keeps its own record). */
export function vieCopy(dst: Vie, src: Vie): void {
  dst.inst.set(src.inst);
  dst.num_valid = src.num_valid;
  dst.num_processed = src.num_processed;
  dst.addrsize = src.addrsize;
  dst.opsize = src.opsize;
  dst.rex_w = src.rex_w;
  dst.rex_r = src.rex_r;
  dst.rex_x = src.rex_x;
  dst.rex_b = src.rex_b;
  dst.rex_present = src.rex_present;
  dst.repz_present = src.repz_present;
  dst.repnz_present = src.repnz_present;
  dst.opsize_override = src.opsize_override;
  dst.addrsize_override = src.addrsize_override;
  dst.segment_override = src.segment_override;
  dst.mod = src.mod;
  dst.reg = src.reg;
  dst.rm = src.rm;
  dst.ss = src.ss;
  dst.index = src.index;
  dst.base = src.base;
  dst.disp_bytes = src.disp_bytes;
  dst.imm_bytes = src.imm_bytes;
  dst.scale = src.scale;
  dst.base_register = src.base_register;
  dst.index_register = src.index_register;
  dst.segment_register = src.segment_register;
  dst.displacement = src.displacement;
  dst.immediate = src.immediate;
  dst.decoded = src.decoded;
  dst.op.op_byte = src.op.op_byte;
  dst.op.op_type = src.op.op_type;
  dst.op.op_flags = src.op.op_flags;
  dst.disasm = src.disasm;
}
