/**
 * Emulate: bhyve's vmm_emulate_instruction and its emulate_<op> functions
 * (sys/amd64/vmm/vmm_instruction_emul.c), one switch on op_type. The MMIO operand goes
 * through `memread`/`memwrite` (bhyve's mem_region_read_t/_write_t: the device); the other
 * operand of movs/push/pop is guest RAM reached through the guest's paging (bhyve's
 * vm_copy_setup/vm_copyin/vm_copyout), provided by the exit path as an `EmulEnv`.
 *
 * Two kinds of failure stay apart, as in bhyve:
 * - a guest-visible fault (#PF, #GP, #SS, #AC) is injected through the env and the function
 *   returns 0; injecting restarts the instruction (bhyve's vm_inject_fault ->
 *   vm_restart_instruction), so RIP is not advanced;
 * - EINVAL: an encoding bhyve's emulator does not handle (e.g. 80 /4 `and r/m8, imm8`, or a
 *   group opcode with a ModRM.reg it does not know). The exit path stops the run with it.
 * Device errors (an access no device owns) are emulator errors thrown by the env.
 *
 * Arithmetic is on bigint (values are 64-bit); RFLAGS is a number. Flags follow bhyve's getcc
 * family, which computes them with the host's own `sub`/`add` + `pushfq`: CF, PF, AF, ZF, SF,
 * OF of x - y (or x + y) at the operand size (SDM Vol. 1 §3.4.3.1 "Status Flags").
 */
import {
  VIE_OP_TYPE_ADD, VIE_OP_TYPE_AND, VIE_OP_TYPE_BITTEST, VIE_OP_TYPE_CMP, VIE_OP_TYPE_GROUP1,
  VIE_OP_TYPE_MOV, VIE_OP_TYPE_MOVS, VIE_OP_TYPE_MOVSX, VIE_OP_TYPE_MOVZX, VIE_OP_TYPE_OR,
  VIE_OP_TYPE_POP, VIE_OP_TYPE_PUSH, VIE_OP_TYPE_STOS, VIE_OP_TYPE_SUB, VIE_OP_TYPE_TEST,
  VIE_OP_TYPE_TWOB_GRP15,
} from './opcodes';
import type { VcpuPort } from './ports';
import {
  SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_NAMES, SEG_SS, VM_REG_GUEST_RAX, VM_REG_GUEST_RCX,
  VM_REG_GUEST_RDI, VM_REG_GUEST_RSI, VM_REG_GUEST_RSP, type Vie,
} from './vie';

export const EMUL_OK = 0;
/** bhyve's EFAULT: the address is not guest RAM (vm_copy_setup failed: MMIO). */
export const EFAULT = 14;
/** bhyve's EINVAL: the emulator does not handle this encoding. */
export const EINVAL = 22;

/** vm_copy_setup's "a fault was injected into the guest" outcome. */
export const COPY_FAULT = 1;

/** Exception vectors (SDM Vol. 3A Table 6-1). */
export const IDT_GP = 13;
export const IDT_SS = 12;
export const IDT_PF = 14;
export const IDT_AC = 17;

/** RFLAGS bits (SDM Vol. 1 §3.4.3), bhyve's PSL_*. */
export const PSL_C = 0x1;
export const PSL_PF = 0x4;
export const PSL_AF = 0x10;
export const PSL_Z = 0x40;
export const PSL_N = 0x80;
export const PSL_AC = 0x40000;
export const PSL_D = 0x400;
export const PSL_V = 0x800;
export const RFLAGS_STATUS_BITS = PSL_C | PSL_PF | PSL_AF | PSL_Z | PSL_N | PSL_V;

const CR0_AM = 1 << 18;

/** size2mask[]: 1, 2, 4, 8 bytes. */
const SIZE2MASK: readonly bigint[] = [
  0n, 0xffn, 0xffffn, 0n, 0xffffffffn, 0n, 0n, 0n, 0xffffffffffffffffn,
];

export function size2mask(size: number): bigint {
  return SIZE2MASK[size];
}

/**
 * `BigInt(imm) & size2mask(size)` for a `mov` of an immediate to memory, memoized per size: a
 * device register loop stores the same few immediates on every exit, and building the BigInt
 * each time was 2% of the hit path's time (profiled in Node, bench:exits --mode worker).
 */
const MOV_IMMEDIATES: readonly Map<number, bigint>[] = SIZE2MASK.map(() => new Map());
const MOV_IMMEDIATES_KEPT = 1024;

function movImmediate(imm: number, size: number): bigint {
  const memo = MOV_IMMEDIATES[size];
  let v = memo.get(imm);
  if (v === undefined) {
    if (memo.size >= MOV_IMMEDIATES_KEPT) memo.clear();
    v = BigInt(imm) & SIZE2MASK[size];
    memo.set(imm, v);
  }
  return v;
}

/**
 * What the emulation needs beyond the vCPU's registers. Implemented by the exit path (Vmm),
 * or by a fake in tests.
 */
export interface EmulEnv {
  readonly vcpu: VcpuPort;
  /** mem_region_read_t: `size` bytes of the device at `gpa` (zero-extended). */
  memread(gpa: number, size: number): bigint;
  /** mem_region_write_t. */
  memwrite(gpa: number, size: number, value: bigint): void;
  /**
   * vm_copy_setup: translate [gla, gla + size) for `write` (else read) through the guest's
   * paging. Returns EMUL_OK when it is all guest RAM (then copyin/copyout work on it),
   * COPY_FAULT after injecting a guest fault (#PF), or EFAULT when it is not RAM (MMIO).
   */
  copySetup(gla: number, size: number, write: boolean): number;
  /** vm_copyin of the last setup. */
  copyin(size: number): bigint;
  /** vm_copyout of the last setup (the env invalidates cached code on those pages). */
  copyout(size: number, value: bigint): void;
  /**
   * vm_gla2gpa: the guest-physical address of `gla`, or -1 after injecting a fault (#PF).
   * Used for MMIO-to-MMIO movs, where both sides are devices.
   */
  gla2gpa(gla: number, write: boolean): number;
  /** vm_inject_fault (with restart). */
  inject(vector: number, errorCode: number): void;
  /** vm_restart_instruction: do not advance RIP after this exit (rep string iterations). */
  restartInstruction(): void;
}

// ---- registers (bhyve's vie_read_register / vie_update_register / bytereg) ------------------

/**
 * vie_update_register: 1- and 2-byte writes merge into the old value, 4-byte writes zero the
 * upper half (SDM Vol. 1 §3.4.1.1 "General-Purpose Registers in 64-Bit Mode"), 8 replaces.
 */
function vie_update_register(vcpu: VcpuPort, reg: number, val: bigint, size: number): void {
  if (size === 1 || size === 2) {
    const m = SIZE2MASK[size];
    val = (val & m) | (vcpu.getGpr(reg) & ~m & SIZE2MASK[8]);
  } else if (size === 4) {
    // A device's 32-bit read is in range already: no new BigInt for the mask (one per exit).
    if (val < 0n || val > 0xffffffffn) val &= 0xffffffffn;
  } else {
    val &= SIZE2MASK[8];
  }
  vcpu.setGpr(reg, val);
}

/**
 * vie_calc_bytereg: without REX, ModRM.reg 4..7 name AH, CH, DH, BH (bits 15:8 of rax..rbx);
 * with REX they are SPL, BPL, SIL, DIL (SDM Vol. 2A §3.1.1.1, Table 3-1).
 */
function vie_read_bytereg(vcpu: VcpuPort, vie: Vie): bigint {
  if (!vie.rex_present && vie.reg & 4) return (vcpu.getGpr(vie.reg & 3) >> 8n) & 0xffn;
  return vcpu.getGpr(vie.reg) & 0xffn;
}

function vie_write_bytereg(vcpu: VcpuPort, vie: Vie, byte: bigint): void {
  if (!vie.rex_present && vie.reg & 4) {
    const r = vie.reg & 3;
    const old = vcpu.getGpr(r) & SIZE2MASK[8];
    vcpu.setGpr(r, (old & ~0xff00n) | ((byte & 0xffn) << 8n));
  } else {
    vie_update_register(vcpu, vie.reg, byte, 1);
  }
}

// ---- flags (bhyve's getcc / getaddflags / getandflags) --------------------------------------

function parityEven(b: number): boolean {
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  return (b & 1) === 0;
}

/** Status flags of `r` (already masked) common to every operation: PF, ZF, SF. */
function pzs(r: bigint, size: number): number {
  let f = 0;
  if (parityEven(Number(r & 0xffn))) f |= PSL_PF;
  if (r === 0n) f |= PSL_Z;
  if ((r >> BigInt(size * 8 - 1)) & 1n) f |= PSL_N;
  return f;
}

/** getcc: the status flags of `x - y` at `size` bytes (what `cmp`/`sub` set). */
export function getcc(size: number, x: bigint, y: bigint): number {
  const m = SIZE2MASK[size];
  const sb = BigInt(size * 8 - 1);
  x &= m;
  y &= m;
  const r = (x - y) & m;
  let f = pzs(r, size);
  if (x < y) f |= PSL_C;
  if ((x ^ y ^ r) & 0x10n) f |= PSL_AF;
  if ((((x ^ y) & (x ^ r)) >> sb) & 1n) f |= PSL_V;
  return f;
}

/** getaddflags: the status flags of `x + y` at `size` bytes. */
export function getaddflags(size: number, x: bigint, y: bigint): number {
  const m = SIZE2MASK[size];
  const sb = BigInt(size * 8 - 1);
  x &= m;
  y &= m;
  const full = x + y;
  const r = full & m;
  let f = pzs(r, size);
  if (full > m) f |= PSL_C;
  if ((x ^ y ^ r) & 0x10n) f |= PSL_AF;
  if (((~(x ^ y) & (x ^ r)) >> sb) & 1n) f |= PSL_V;
  return f;
}

/**
 * Flags of a logical result (and/or/test): SDM "OF and CF are cleared; SF, ZF and PF are set
 * according to the result; AF is undefined". bhyve takes PF|ZF|SF of getcc(size, result, 0)
 * after clearing every status bit, so AF ends up 0; so does ours.
 */
function logicFlags(rflags: number, size: number, result: bigint): number {
  const f = getcc(size, result, 0n);
  return (rflags & ~RFLAGS_STATUS_BITS) | (f & (PSL_PF | PSL_Z | PSL_N));
}

function statusFlags(rflags: number, f: number): number {
  return (rflags & ~RFLAGS_STATUS_BITS) | (f & RFLAGS_STATUS_BITS);
}

// ---- emulate_<op> ---------------------------------------------------------------------------

function emulate_mov(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const size = vie.opsize;
  switch (vie.op.op_byte) {
    case 0x88:
      // 88/r: mov r/m8, r8; REX + 88/r: mov r/m8, r8 (AH..BH not encodable with REX)
      env.memwrite(gpa, 1, vie_read_bytereg(vcpu, vie));
      return EMUL_OK;
    case 0x89:
      // 89/r: mov r/m16, r16 | mov r/m32, r32; REX.W + 89/r: mov r/m64, r64
      env.memwrite(gpa, size, vcpu.getGpr(vie.reg) & SIZE2MASK[size]);
      return EMUL_OK;
    case 0x8a:
      // 8A/r: mov r8, r/m8; REX + 8A/r: mov r8, r/m8
      vie_write_bytereg(vcpu, vie, env.memread(gpa, 1));
      return EMUL_OK;
    case 0x8b:
      // 8B/r: mov r16, r/m16 | mov r32, r/m32; REX.W 8B/r: mov r64, r/m64
      vie_update_register(vcpu, vie.reg, env.memread(gpa, size), size);
      return EMUL_OK;
    case 0xa1:
      // A1: mov AX, moffs16 | mov EAX, moffs32; REX.W + A1: mov RAX, moffs64
      vie_update_register(vcpu, VM_REG_GUEST_RAX, env.memread(gpa, size), size);
      return EMUL_OK;
    case 0xa3:
      // A3: mov moffs16, AX | mov moffs32, EAX; REX.W + A3: mov moffs64, RAX
      env.memwrite(gpa, size, vcpu.getGpr(VM_REG_GUEST_RAX) & SIZE2MASK[size]);
      return EMUL_OK;
    case 0xc6:
      // C6/0: mov r/m8, imm8; REX + C6/0 (bhyve does not check ModRM.reg: "XXX group 11")
      env.memwrite(gpa, 1, movImmediate(vie.immediate, 1));
      return EMUL_OK;
    case 0xc7:
      // C7/0: mov r/m16, imm16 | mov r/m32, imm32; REX.W + C7/0: mov r/m64, imm32 sign-extended
      env.memwrite(gpa, size, movImmediate(vie.immediate, size));
      return EMUL_OK;
    default:
      return EINVAL;
  }
}

function emulate_movx(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const size = vie.opsize;
  switch (vie.op.op_byte) {
    case 0xb6:
      // 0F B6/r: movzx r16, r/m8 | movzx r32, r/m8; REX.W + 0F B6/r: movzx r64, r/m8
      vie_update_register(vcpu, vie.reg, env.memread(gpa, 1) & 0xffn, size);
      return EMUL_OK;
    case 0xb7:
      // 0F B7/r: movzx r32, r/m16; REX.W + 0F B7/r: movzx r64, r/m16
      vie_update_register(vcpu, vie.reg, env.memread(gpa, 2) & 0xffffn, size);
      return EMUL_OK;
    case 0xbe:
      // 0F BE/r: movsx r16, r/m8 | movsx r32, r/m8; REX.W + 0F BE/r: movsx r64, r/m8
      vie_update_register(vcpu, vie.reg, BigInt.asIntN(8, env.memread(gpa, 1)), size);
      return EMUL_OK;
    default:
      return EINVAL;
  }
}

/** Linear address of a string operand (bhyve's get_gla + vie_calculate_gla), or -1 on a fault. */
function get_gla(env: EmulEnv, vie: Vie, opsize: number, seg: number, gpr: number): number {
  const vcpu = env.vcpu;
  const offset = vcpu.getGpr(gpr) & SIZE2MASK[vie.addrsize];
  // SDM Vol. 1 §3.4.2.1: in 64-bit mode only FS and GS add a base.
  const segbase = seg === SEG_FS || seg === SEG_GS ? BigInt(vcpu.segBase(SEG_NAMES[seg])) : 0n;
  const gla = BigInt.asIntN(64, (segbase + offset) & SIZE2MASK[vie.addrsize]);
  // vie_canonical_check: bits 63:47 all equal (SDM Vol. 1 §3.3.7.1).
  if (gla < -(1n << 47n) || gla >= 1n << 47n) {
    env.inject(seg === SEG_SS ? IDT_SS : IDT_GP, 0);
    return NaN;
  }
  const n = Number(gla);
  if (alignmentFault(vcpu, opsize, n)) {
    env.inject(IDT_AC, 0);
    return NaN;
  }
  return n;
}

/** vie_alignment_check: #AC at CPL 3 with CR0.AM and RFLAGS.AC on a misaligned access. */
function alignmentFault(vcpu: VcpuPort, size: number, gla: number): boolean {
  if (vcpu.cpl !== 3 || (vcpu.cr0 & CR0_AM) === 0 || (vcpu.getRflags() & PSL_AC) === 0) return false;
  return ((gla % size) + size) % size !== 0;
}

/** REP string op with rCX = 0 (at the address size): nothing to do, RIP just advances. */
function repCountExhausted(vcpu: EmulEnv['vcpu'], vie: Vie): boolean {
  if (!(vie.repz_present | vie.repnz_present)) return false;
  return (vcpu.getGpr(VM_REG_GUEST_RCX) & SIZE2MASK[vie.addrsize]) === 0n;
}

/**
 * After one iteration of a REP string op: decrement rCX and restart the instruction while it is
 * not zero (bhyve runs one iteration per exit; RIP advances only on the last).
 */
function endRepIteration(env: EmulEnv, vie: Vie): void {
  if (!(vie.repz_present | vie.repnz_present)) return;
  const rcx = env.vcpu.getGpr(VM_REG_GUEST_RCX) - 1n;
  vie_update_register(env.vcpu, VM_REG_GUEST_RCX, rcx, vie.addrsize);
  if ((rcx & SIZE2MASK[vie.addrsize]) !== 0n) env.restartInstruction();
}

/**
 * emulate_movs. A4: movsb; A5: movsw/movsd, REX.W + A5: movsq (DS:rSI -> ES:rDI). With a rep
 * prefix one iteration per exit, restarting until rCX (at the address size) is 0. bhyve's
 * case table: (2) RAM -> MMIO, (3) MMIO -> RAM, (4) MMIO -> MMIO; vm_copy_setup tells them
 * apart by failing on MMIO.
 */
function emulate_movs(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const opsize = vie.op.op_byte === 0xa4 ? 1 : vie.opsize;
  if (repCountExhausted(vcpu, vie)) return EMUL_OK;
  const seg = vie.segment_override ? vie.segment_register : SEG_DS;
  const srcaddr = get_gla(env, vie, opsize, seg, VM_REG_GUEST_RSI);
  if (Number.isNaN(srcaddr)) return EMUL_OK;
  let r = env.copySetup(srcaddr, opsize, false);
  if (r === COPY_FAULT) return EMUL_OK;
  if (r === EMUL_OK) {
    // case (2): read from system memory and write to mmio.
    const val = env.copyin(opsize);
    env.memwrite(gpa, opsize, val);
  } else {
    const dstaddr = get_gla(env, vie, opsize, SEG_ES, VM_REG_GUEST_RDI);
    if (Number.isNaN(dstaddr)) return EMUL_OK;
    r = env.copySetup(dstaddr, opsize, true);
    if (r === COPY_FAULT) return EMUL_OK;
    if (r === EMUL_OK) {
      // case (3): read from MMIO and write to system memory; the MMIO read (which may have
      // side effects) only after the destination is known not to fault.
      const val = env.memread(gpa, opsize);
      env.copyout(opsize, val);
    } else {
      // case (4): MMIO to MMIO; translate both before committing to either access.
      const srcgpa = env.gla2gpa(srcaddr, false);
      if (srcgpa < 0) return EMUL_OK;
      const dstgpa = env.gla2gpa(dstaddr, true);
      if (dstgpa < 0) return EMUL_OK;
      env.memwrite(dstgpa, opsize, env.memread(srcgpa, opsize));
    }
  }
  const step = BigInt(opsize);
  const down = (vcpu.getRflags() & PSL_D) !== 0;
  const rsi = vcpu.getGpr(VM_REG_GUEST_RSI);
  const rdi = vcpu.getGpr(VM_REG_GUEST_RDI);
  vie_update_register(vcpu, VM_REG_GUEST_RSI, down ? rsi - step : rsi + step, vie.addrsize);
  vie_update_register(vcpu, VM_REG_GUEST_RDI, down ? rdi - step : rdi + step, vie.addrsize);
  endRepIteration(env, vie);
  return EMUL_OK;
}

/**
 * emulate_stos. AA: stosb; AB: stosw/stosd, REX.W + AB: stosq (rAX -> ES:rDI), one iteration
 * per exit with rep, like movs.
 */
function emulate_stos(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const opsize = vie.op.op_byte === 0xaa ? 1 : vie.opsize;
  if (repCountExhausted(vcpu, vie)) return EMUL_OK;
  env.memwrite(gpa, opsize, vcpu.getGpr(VM_REG_GUEST_RAX) & SIZE2MASK[opsize]);
  const rdi = vcpu.getGpr(VM_REG_GUEST_RDI);
  const step = BigInt(opsize);
  const down = (vcpu.getRflags() & PSL_D) !== 0;
  vie_update_register(vcpu, VM_REG_GUEST_RDI, down ? rdi - step : rdi + step, vie.addrsize);
  endRepIteration(env, vie);
  return EMUL_OK;
}

function emulate_and(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const size = vie.opsize;
  let result: bigint;
  switch (vie.op.op_byte) {
    case 0x23: {
      // 23/r: and r16, r/m16 | and r32, r/m32; REX.W + 23/r: and r64, r/m64
      const val1 = vcpu.getGpr(vie.reg);
      const val2 = env.memread(gpa, size);
      result = val1 & val2;
      vie_update_register(vcpu, vie.reg, result, size);
      break;
    }
    case 0x81:
    case 0x83:
      // 81 /4: and r/m16, imm16 | and r/m32, imm32; REX.W + 81 /4: and r/m64, imm32 (sx)
      // 83 /4: and r/m16/32/64, imm8 sign-extended
      result = env.memread(gpa, size) & BigInt(vie.immediate);
      env.memwrite(gpa, size, result & SIZE2MASK[size]);
      break;
    default:
      return EINVAL; // e.g. 80 /4 (and r/m8, imm8): not in bhyve's emulate_and
  }
  vcpu.setRflags(logicFlags(vcpu.getRflags(), size, result & SIZE2MASK[size]));
  return EMUL_OK;
}

function emulate_or(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const size = vie.opsize;
  let result: bigint;
  switch (vie.op.op_byte) {
    case 0x0b: {
      // 0B/r: or r16, r/m16 | or r32, r/m32; REX.W + 0B/r: or r64, r/m64
      result = vcpu.getGpr(vie.reg) | env.memread(gpa, size);
      vie_update_register(vcpu, vie.reg, result, size);
      break;
    }
    case 0x81:
    case 0x83:
      // 81 /1: or r/m16, imm16 | or r/m32, imm32; REX.W + 81 /1: or r/m64, imm32 (sx)
      // 83 /1: or r/m16/32/64, imm8 sign-extended
      result = env.memread(gpa, size) | (BigInt(vie.immediate) & SIZE2MASK[size]);
      env.memwrite(gpa, size, result & SIZE2MASK[size]);
      break;
    default:
      return EINVAL; // e.g. 80 /1 (or r/m8, imm8)
  }
  vcpu.setRflags(logicFlags(vcpu.getRflags(), size, result & SIZE2MASK[size]));
  return EMUL_OK;
}

function emulate_cmp(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  let size = vie.opsize;
  let f: number;
  switch (vie.op.op_byte) {
    case 0x39:
    case 0x3b: {
      // 39/r: cmp r/m16, r16 | cmp r/m32, r32; REX.W 39/r: cmp r/m64, r64
      // 3B/r: cmp r16, r/m16 | cmp r32, r/m32; REX.W + 3B/r: cmp r64, r/m64
      const regop = vcpu.getGpr(vie.reg);
      const memop = env.memread(gpa, size);
      f = vie.op.op_byte === 0x3b ? getcc(size, regop, memop) : getcc(size, memop, regop);
      break;
    }
    case 0x80:
    case 0x81:
    case 0x83:
      // 80 /7: cmp r/m8, imm8; 81 /7: cmp r/m16, imm16 | r/m32, imm32 (REX.W: imm32 sx to 64);
      // 83 /7: cmp r/m16/32/64, imm8 sign-extended
      if (vie.op.op_byte === 0x80) size = 1;
      f = getcc(size, env.memread(gpa, size), BigInt(vie.immediate));
      break;
    default:
      return EINVAL;
  }
  vcpu.setRflags(statusFlags(vcpu.getRflags(), f));
  return EMUL_OK;
}

function emulate_add(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const size = vie.opsize;
  if (vie.op.op_byte !== 0x03) return EINVAL;
  // 03/r: add r16, r/m16 | add r32, r/m32; REX.W + 03/r: add r64, r/m64
  const val1 = vcpu.getGpr(vie.reg);
  const val2 = env.memread(gpa, size);
  vie_update_register(vcpu, vie.reg, val1 + val2, size);
  vcpu.setRflags(statusFlags(vcpu.getRflags(), getaddflags(size, val1, val2)));
  return EMUL_OK;
}

function emulate_sub(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const size = vie.opsize;
  if (vie.op.op_byte !== 0x2b) return EINVAL;
  // 2B/r: sub r16, r/m16 | sub r32, r/m32; REX.W + 2B/r: sub r64, r/m64
  const val1 = vcpu.getGpr(vie.reg);
  const val2 = env.memread(gpa, size);
  vie_update_register(vcpu, vie.reg, val1 - val2, size);
  vcpu.setRflags(statusFlags(vcpu.getRflags(), getcc(size, val1, val2)));
  return EMUL_OK;
}

function emulate_test(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  const size = vie.opsize;
  if (vie.op.op_byte !== 0xf7) return EINVAL;
  // F7 /0: test r/m16, imm16 | test r/m32, imm32; REX.W + F7 /0: test r/m64, imm32 (sx).
  // Group 3: /2 not, /3 neg, /4 mul ... are not emulated.
  if ((vie.reg & 7) !== 0) return EINVAL;
  const result = env.memread(gpa, size) & BigInt(vie.immediate) & SIZE2MASK[size];
  vcpu.setRflags(logicFlags(vcpu.getRflags(), size, result));
  return EMUL_OK;
}

/**
 * emulate_stack_op: FF /6 push r/m16|r/m64 (MMIO source, stack in RAM) and 8F /0 pop
 * r/m16|r/m64 (stack in RAM, MMIO destination). SDM Vol. 3A "Stack Manipulation Instructions
 * in 64-Bit Mode": the stack address size is 64; the operand is 64 bits, 16 with 66.
 */
function emulate_stack_op(env: EmulEnv, gpa: number, vie: Vie, push: boolean): number {
  const vcpu = env.vcpu;
  const size = vie.opsize_override ? 2 : 8;
  let rsp = vcpu.getGpr(VM_REG_GUEST_RSP);
  if (push) rsp -= BigInt(size);
  const gla = BigInt.asIntN(64, rsp);
  if (gla < -(1n << 47n) || gla >= 1n << 47n) {
    env.inject(IDT_SS, 0);
    return EMUL_OK;
  }
  const stackGla = Number(gla);
  if (alignmentFault(vcpu, size, stackGla)) {
    env.inject(IDT_AC, 0);
    return EMUL_OK;
  }
  const r = env.copySetup(stackGla, size, push);
  if (r === COPY_FAULT) return EMUL_OK;
  if (r !== EMUL_OK) return EFAULT; // a stack in MMIO: bhyve returns the error
  if (push) {
    env.copyout(size, env.memread(gpa, size));
  } else {
    env.memwrite(gpa, size, env.copyin(size));
    rsp += BigInt(size);
  }
  vie_update_register(vcpu, VM_REG_GUEST_RSP, rsp, 8);
  return EMUL_OK;
}

function emulate_push(env: EmulEnv, gpa: number, vie: Vie): number {
  // Table A-6 "Opcode Extensions": PUSH is group 5 with ModRM.reg = 110b (FF /6).
  if ((vie.reg & 7) !== 6) return EINVAL;
  return emulate_stack_op(env, gpa, vie, true);
}

function emulate_pop(env: EmulEnv, gpa: number, vie: Vie): number {
  // Table A-6: POP is group 1A with ModRM.reg = 000b (8F /0).
  if ((vie.reg & 7) !== 0) return EINVAL;
  return emulate_stack_op(env, gpa, vie, false);
}

function emulate_group1(env: EmulEnv, gpa: number, vie: Vie): number {
  // Group 1 (80, 81, 83): /1 OR, /4 AND, /7 CMP are emulated; /0 ADD, /2 ADC, /3 SBB,
  // /5 SUB, /6 XOR are not (bhyve's emulate_group1).
  switch (vie.reg & 7) {
    case 1: return emulate_or(env, gpa, vie);
    case 4: return emulate_and(env, gpa, vie);
    case 7: return emulate_cmp(env, gpa, vie);
    default: return EINVAL;
  }
}

function emulate_bittest(env: EmulEnv, gpa: number, vie: Vie): number {
  const vcpu = env.vcpu;
  // 0F BA is group 8; only BT (ModRM.reg = 100b): 0F BA /4 ib: bt r/m16|32|64, imm8.
  if ((vie.reg & 7) !== 4) return EINVAL;
  const val = env.memread(gpa, vie.opsize);
  // SDM Vol. 2A Table 3-2: with an immediate, the bit offset is taken modulo the operand size.
  const bitoff = vie.immediate & (vie.opsize * 8 - 1);
  let rflags = vcpu.getRflags();
  if ((val >> BigInt(bitoff)) & 1n) rflags |= PSL_C;
  else rflags &= ~PSL_C;
  vcpu.setRflags(rflags);
  return EMUL_OK;
}

function emulate_twob_group15(env: EmulEnv, gpa: number, vie: Vie): number {
  switch (vie.reg & 7) {
    case 7:
      // 0F AE /7: clflush m8 (66 0F AE /7: clflushopt); mod = 3 would be SFENCE, which
      // decode_modrm already rejected. Only the access right is checked: a 1-byte read.
      if (vie.mod !== 3) env.memread(gpa, 1);
      return EMUL_OK;
    default:
      return EINVAL;
  }
}

/**
 * vmm_emulate_instruction: one switch on the op type. `gpa` is the guest-physical address of
 * the access that exited. Returns EMUL_OK (also after injecting a guest fault), EINVAL or
 * EFAULT; the caller advances RIP unless the env was told to restart or a fault was injected.
 */
export function vmm_emulate_instruction(env: EmulEnv, gpa: number, vie: Vie): number {
  if (!vie.decoded) return EINVAL;
  switch (vie.op.op_type) {
    case VIE_OP_TYPE_GROUP1: return emulate_group1(env, gpa, vie);
    case VIE_OP_TYPE_POP: return emulate_pop(env, gpa, vie);
    case VIE_OP_TYPE_PUSH: return emulate_push(env, gpa, vie);
    case VIE_OP_TYPE_CMP: return emulate_cmp(env, gpa, vie);
    case VIE_OP_TYPE_MOV: return emulate_mov(env, gpa, vie);
    case VIE_OP_TYPE_MOVSX:
    case VIE_OP_TYPE_MOVZX: return emulate_movx(env, gpa, vie);
    case VIE_OP_TYPE_MOVS: return emulate_movs(env, gpa, vie);
    case VIE_OP_TYPE_STOS: return emulate_stos(env, gpa, vie);
    case VIE_OP_TYPE_AND: return emulate_and(env, gpa, vie);
    case VIE_OP_TYPE_OR: return emulate_or(env, gpa, vie);
    case VIE_OP_TYPE_SUB: return emulate_sub(env, gpa, vie);
    case VIE_OP_TYPE_BITTEST: return emulate_bittest(env, gpa, vie);
    case VIE_OP_TYPE_TWOB_GRP15: return emulate_twob_group15(env, gpa, vie);
    case VIE_OP_TYPE_ADD: return emulate_add(env, gpa, vie);
    case VIE_OP_TYPE_TEST: return emulate_test(env, gpa, vie);
    default: return EINVAL;
  }
}
