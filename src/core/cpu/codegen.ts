/**
 * Translate a decoded block (DInsn[]) into one generated JavaScript function (QEMU TCG /
 * v86 JIT idea, in JS): registers are an Int32Array `R` (lo at i, hi at i + 16), memory goes
 * through the vCPU's TLB accessors, flags are recorded lazily and only where live.
 *
 * Generated signature: (c: Vcpu, R: Int32Array, budget: number) => retired instructions.
 * On a fault/exit the function records the index of the faulting instruction in `c.faultIndex`
 * (plus completed loop iterations) and rethrows; that instruction had no effect.
 */
import { Code, Mnemonic } from '../iced';
import { FK, szlog } from './flags';
import { type DInsn, OK, type Operand } from './decode';

/** iced RflagsBits: OF SF ZF AF CF PF. */
const ST_ALL = 0x3f;

const M = Mnemonic;

/** Instructions that never fault or exit (register/immediate forms only). */
const PURE = new Set<number>([
  M.Mov, M.Add, M.Sub, M.Adc, M.Sbb, M.And, M.Or, M.Xor, M.Cmp, M.Test, M.Inc, M.Dec, M.Neg, M.Not, M.Lea, M.Movzx,
  M.Movsx, M.Movsxd, M.Xchg, M.Nop, M.Pause, M.Bswap, M.Cbw, M.Cwde, M.Cdqe, M.Cwd, M.Cdq, M.Cqo, M.Clc, M.Stc, M.Cmc,
  M.Cld, M.Std, M.Jmp, M.Jo, M.Jno, M.Jb, M.Jae, M.Je, M.Jne, M.Jbe, M.Ja, M.Js, M.Jns, M.Jp, M.Jnp, M.Jl, M.Jge, M.Jle,
  M.Jg, M.Loop, M.Loope, M.Loopne, M.Jrcxz, M.Jecxz, M.Shl, M.Sal, M.Shr, M.Sar, M.Rol, M.Ror, M.Rcl, M.Rcr, M.Shld, M.Shrd,
  M.Bt, M.Bts, M.Btr, M.Btc, M.Bsf, M.Bsr, M.Tzcnt, M.Lzcnt, M.Popcnt, M.Imul, M.Xadd, M.Cmpxchg,
  M.Seto, M.Setno, M.Setb, M.Setae, M.Sete, M.Setne, M.Setbe, M.Seta, M.Sets, M.Setns, M.Setp, M.Setnp, M.Setl, M.Setge,
  M.Setle, M.Setg, M.Cmovo, M.Cmovno, M.Cmovb, M.Cmovae, M.Cmove, M.Cmovne, M.Cmovbe, M.Cmova, M.Cmovs, M.Cmovns, M.Cmovp,
  M.Cmovnp, M.Cmovl, M.Cmovge, M.Cmovle, M.Cmovg,
]);

function mayFault(d: DInsn): boolean {
  if (!PURE.has(d.mn)) return true;
  for (const o of d.ops) if (o.kind === OK.Mem || o.kind === OK.Str || (o.kind === OK.Reg && o.reg < 0)) return true;
  return false;
}

const MASKS = ['', '255', '65535', '', '-1'];
/**
 * Accesses of a loop block that remember their page in locals, at most (the rest use the TLB
 * check every time; the block-source allow-list names pb0..pb15 and ph0..ph15).
 */
export const MAX_PAGE_SLOTS = 16;
/** DataView getters/setters by access size (the accessors' fast paths, memory.ts). */
const GET = ['', 'getUint8', 'getUint16', '', 'getInt32'];
const SET = ['', 'setUint8', 'setUint16', '', 'setInt32'];

/**
 * The lazy flag record (flags.ts) of the instructions in a block lives in the block's locals
 * lzOp lzR lzRH lzA lzAH lzB lzBH lzC (lzOp 0: nothing pending, the vCPU's record is current).
 * It is copied to the vCPU at every exit of the block and before a helper that reads or sets
 * flags; a loop block then keeps its flag record in machine registers. Fields a record kind
 * does not set keep older values, which computeStatus never reads for that kind.
 */
const FLUSH_LAZY = 'if (lzOp!==0) { c.lazyOp=lzOp; c.lazyResult=lzR; c.lazyResultHi=lzRH; c.lazyA=lzA; c.lazyAHi=lzAH; c.lazyB=lzB; c.lazyBHi=lzBH; c.lazyCarry=lzC; } ';
const FLUSH_LAZY_AND_CLEAR = 'if (lzOp!==0) { c.lazyOp=lzOp; c.lazyResult=lzR; c.lazyResultHi=lzRH; c.lazyA=lzA; c.lazyAHi=lzAH; c.lazyB=lzB; c.lazyBHi=lzBH; c.lazyCarry=lzC; lzOp=0; }';
const FLUSH_MARK = '/*flush-lazy*/';
/** A loop block's priming call (genBlock) loads the vCPU's record into its locals, to store it back unchanged. */
const PRIME_LAZY = 'lzOp=c.lazyOp; lzR=c.lazyResult; lzRH=c.lazyResultHi; lzA=c.lazyA; lzAH=c.lazyAHi; lzB=c.lazyB; lzBH=c.lazyBHi; lzC=c.lazyCarry; ';
/** Helpers that read or write the flags (the lazy record or rflags' status bits). */
const FLAG_HELPER = /c\.(cond|carryFlag|setCF|getRflags|sys|str|shift|shiftD|btReg|btMem|bitscan|muldiv|imul2)\(/;
/** Calls besides the memory accessors (mayFault) that can raise a guest exception. */
const THROWS = /c\.(raise|jumpTo|checkCanonical)\(/;

/** Markers around a helper that reads or writes the vCPU's `gpr` (sys, str, muldiv). */
const SPILL = '/*spill*/', FILL = '/*fill*/';

/**
 * Keep the guest registers a block uses in JS locals for the whole function (v86's
 * `register_locals` in its JIT context): `R[n]` becomes the local `gn`, loaded once at entry;
 * the registers the block writes are stored back in the block's one exit (see genBlock), in the fault handler
 * (an instruction that faults has written no register yet, so the locals hold the state
 * before it) and before a helper that reads `gpr`, which are reloaded after it. A fault
 * inside such a helper leaves `gpr` as the helper left it (a REP string instruction keeps
 * the progress of its completed iterations). In a loop
 * block the registers then stay in machine registers across iterations. Only numbers and the
 * fixed text above enter the source.
 */
function registerLocals(body: string, afterHelper: string): { body: string; load: string; store: string } {
  const used = new Set<number>(), written = new Set<number>();
  for (const m of body.matchAll(/R\[(\d+)\]/g)) used.add(Number(m[1]));
  for (const m of body.matchAll(/R\[(\d+)\][&|^]?=(?!=)/g)) written.add(Number(m[1]));
  // Helpers that write gpr (sys, str, muldiv) may change any register: reload all used ones.
  const regs = [...used].sort((x, y) => x - y);
  const store = [...written].sort((x, y) => x - y).map((r) => `R[${r}]=g${r};`).join('');
  const reload = regs.map((r) => `g${r}=R[${r}];`).join('');
  const load = regs.length > 0 ? `let ${regs.map((r) => `g${r}=R[${r}]`).join(',')};` : '';
  const out = body.replace(/R\[(\d+)\]/g, 'g$1')
    .split(SPILL).join(`${store}inHelper=true;`).split(FILL).join(`inHelper=false;${reload}${afterHelper}`);
  return { body: out, load, store };
}

export interface GenResult {
  src: string;
  /** A loop back to the block's own start was turned into an in-function loop. */
  selfLoop: boolean;
}

/** Generate the source of a block function. */
export function genBlock(ds: DInsn[]): GenResult {
  const n = ds.length;
  // Backward flag liveness (status flags only). Anything that can fault or leave the block
  // needs the architectural flags, so it makes all flags live before it.
  const liveAfter = new Array<number>(n);
  let live = ST_ALL;
  for (let k = n - 1; k >= 0; k--) {
    liveAfter[k] = live;
    const d = ds[k]!;
    live = (live & ~killedFlags(d)) | d.flagsRead;
    if (mayFault(d)) live = ST_ALL;
  }
  const last = ds[n - 1]!;
  const selfLoop = n > 0 && last.target === ds[0]!.rip && isCondBranch(last.mn);
  const g = new Gen(ds, selfLoop);
  for (let k = 0; k < n; k++) {
    g.k = k;
    g.d = ds[k]!;
    g.flagsLive = (liveAfter[k]! & g.d.flagsWritten) !== 0;
    const at = g.out.length;
    g.insnAt = at;
    g.slowPaths.length = 0;
    g.eaInt = false;
    g.insn();
    const code = g.out.slice(at).join('\n');
    const pre: string[] = [];
    // The fault handler reports instruction i: set it only where something can throw.
    if (mayFault(g.d) || THROWS.test(code)) pre.push(`i=${k};`);
    // A helper that reads or writes the lazy flag record finds it in the vCPU.
    if (FLAG_HELPER.test(code)) pre.push(FLUSH_MARK);
    g.out.splice(at, 0, ...pre);
  }
  if (!g.ended) g.endAt(last.next, n);
  const lazy = g.usesLazy;
  // The instructions that change translations or the CPL (INVLPG, MOV CRn, SYSCALL, IRET, ...)
  // end their block (decode.ts endsBlock), so a remembered page stays right for the whole
  // function; it is forgotten after every helper all the same, which costs only there.
  const slots = Array.from({ length: g.pageSlots }, (_, j) => j);
  const forget = slots.map((j) => `pb${j}=${g.intSlots.has(j) ? 1 : 'NaN'};`).join('');
  const { body, load, store } = registerLocals(g.out.join('\n').split(FLUSH_MARK).join(lazy ? FLUSH_LAZY_AND_CLEAR : ''), forget);
  // Every way out of the block (a branch's two targets, a loop's budget, an SMC check, a soft
  // exit) sets rp/nx and breaks to this one epilogue, which stores the registers and the flag
  // record. One copy of that code means V8 gathers its type feedback the first time the block
  // leaves by any path: a loop block that V8 optimized while it had only left by its budget
  // (the machine's slices) would otherwise deoptimize at its first other exit and then run
  // every later call through on-stack replacement from the interpreter, never re-optimized
  // (measured: half the memory-copy kernel's speed through the Machine, bench/cpu.ts).
  // A loop block is also primed once when it is made (blocks.ts translate): called with a
  // negative budget it goes straight to the epilogue with the state it loaded, stores it back
  // unchanged and returns 0, so the epilogue has its feedback before V8 compiles the loop on
  // stack. Otherwise a loop that runs long in its first calls (a 64 KiB copy, a sieve) is
  // compiled on stack while the epilogue has never run, and that code deoptimizes at the loop's
  // end on every later call that enters it, until V8 optimizes the whole function (measured:
  // 105 deoptimizations in one run of the memory-copy kernel on the bare vCPU).
  const prime = selfLoop ? `if (budget<0) { rp=c.rip; ${lazy ? PRIME_LAZY : ''}break out; }\n` : '';
  const flushAtEnd = selfLoop ? FLUSH_LAZY.replace('if (lzOp!==0)', 'if (lzOp!==0||budget<0)') : FLUSH_LAZY;
  const epilogue = `if (rp===rp) c.rip=rp;\n${lazy ? flushAtEnd : ''}${store}return ${selfLoop ? `nx<0?-1:k*${n}+nx` : 'nx'};`;
  const src = `"use strict";
return function block(c, R, budget) {
let a0=0,a1=0,b0=0,b1=0,r0=0,r1=0,t=0,u=0,ea=0,i=0,k=0,inHelper=false,rp=NaN,nx=0${g.usesSlowMark ? ',sw=0' : ''};
${lazy ? 'let lzOp=0,lzR=0,lzRH=0,lzA=0,lzAH=0,lzB=0,lzBH=0,lzC=0;' : ''}
${g.memInline ? 'let rt=c.readTag,wt=c.writeTag,td=c.tlbDelta,dv=c.ramView,mp=0,mx=0,mh=0;' : ''}
${g.usesIntEa ? 'let el=0,eh=0;' : ''}
${slots.length > 0 ? `let ${slots.map((j) => (g.intSlots.has(j) ? `pb${j}=1,px${j}=0,ph${j}=0` : `pb${j}=NaN,ph${j}=0`)).join(',')};` : ''}
${load}
try {
out: {
${prime}${selfLoop ? 'for (;;) {' : ''}
${body}
${selfLoop ? '}' : ''}
}
${epilogue}
} catch (e) { if (!inHelper) { ${store}} ${lazy ? FLUSH_LAZY : ''}c.faultIndex = ${selfLoop ? `k*${n}+i` : 'i'}; throw e; }
};`;
  return { src, selfLoop };
}

const SHIFTS = new Set<number>([M.Shl, M.Sal, M.Shr, M.Sar, M.Rol, M.Ror, M.Rcl, M.Rcr, M.Shld, M.Shrd]);

/**
 * Flags an instruction certainly overwrites. A shift/rotate whose masked count may be 0
 * leaves every flag alone (SDM SAL/SHL: "If the count is 0, the flags are not affected").
 */
function killedFlags(d: DInsn): number {
  if (SHIFTS.has(d.mn)) {
    const c = d.ops[d.ops.length - 1]!;
    const counted = d.ops.length === 1 || (c.kind === OK.Imm && (c.immLo & (d.osz === 8 ? 63 : 31)) !== 0);
    return counted ? d.flagsWritten : 0;
  }
  return d.flagsWritten;
}

function isCondBranch(mn: number): boolean {
  return CC_OF[mn] !== undefined || mn === M.Loop || mn === M.Loope || mn === M.Loopne || mn === M.Jrcxz || mn === M.Jecxz;
}

/** x86 condition code (0..15, SDM Table B-1) for Jcc/SETcc/CMOVcc mnemonics. */
const CC_OF: Record<number, number> = {};
{
  const j = [M.Jo, M.Jno, M.Jb, M.Jae, M.Je, M.Jne, M.Jbe, M.Ja, M.Js, M.Jns, M.Jp, M.Jnp, M.Jl, M.Jge, M.Jle, M.Jg];
  const s = [M.Seto, M.Setno, M.Setb, M.Setae, M.Sete, M.Setne, M.Setbe, M.Seta, M.Sets, M.Setns, M.Setp, M.Setnp, M.Setl, M.Setge, M.Setle, M.Setg];
  const cm = [M.Cmovo, M.Cmovno, M.Cmovb, M.Cmovae, M.Cmove, M.Cmovne, M.Cmovbe, M.Cmova, M.Cmovs, M.Cmovns, M.Cmovp, M.Cmovnp, M.Cmovl, M.Cmovge, M.Cmovle, M.Cmovg];
  for (let i = 0; i < 16; i++) { CC_OF[j[i]!] = i; CC_OF[s[i]!] = i; CC_OF[cm[i]!] = i; }
}
const SETCC = new Set<number>([M.Seto, M.Setno, M.Setb, M.Setae, M.Sete, M.Setne, M.Setbe, M.Seta, M.Sets, M.Setns, M.Setp, M.Setnp, M.Setl, M.Setge, M.Setle, M.Setg]);

/** Group-1 ALU kinds. */
const ALU: Record<number, FK> = { [M.Add]: FK.Add, [M.Adc]: FK.Adc, [M.Sub]: FK.Sub, [M.Sbb]: FK.Sbb, [M.Cmp]: FK.Sub, [M.And]: FK.Logic, [M.Or]: FK.Logic, [M.Xor]: FK.Logic, [M.Test]: FK.Logic };

class Gen {
  out: string[] = [];
  k = 0;
  d!: DInsn;
  flagsLive = true;
  ended = false;
  /** Kind and size of the lazy record in `c` when it was set by this block (-1 unknown). */
  known = -1;
  knownSize = 0;
  /** Some instruction records its flags in the block's lazy locals. */
  usesLazy = false;
  /** Some access inlines the TLB fast path (needs the rt/wt/td/dv locals). */
  memInline = false;
  /** Accesses of a loop block that keep their last page in locals pbN/phN (see inlineAccess). */
  pageSlots = 0;
  /** Index in `out` where the current instruction's code starts. */
  insnAt = 0;
  /** The slow paths (accessor calls) of the current instruction's inlined accesses. */
  slowPaths: string[] = [];
  /** Some inlined access's slow path sets the local `sw` (see endBlockCheck). */
  usesSlowMark = false;
  /** The current instruction's ea() also left its address as int32 halves in el/eh (see ea). */
  eaInt = false;
  /** Some instruction computes el/eh. */
  usesIntEa = false;
  /** Page slots keyed by the int32 halves el/eh (pbN: the page's low half, pxN: its high half). */
  intSlots = new Set<number>();
  constructor(readonly ds: DInsn[], readonly selfLoop: boolean) {}

  emit(s: string): void { this.out.push(s); }

  /** Retired count after instruction k completes. */
  ret(k: number): string { return this.selfLoop ? `k*${this.ds.length}+${k}` : String(k); }

  /**
   * Leave the block through its one exit (genBlock's epilogue after the `out` label): continue
   * at `rip` (null: a helper set c.rip already), with `count` instructions of this pass retired
   * (-1: a soft exit). Only constants are set here, so a path V8 has not run yet carries no
   * operation that needs type feedback (see genBlock).
   */
  exitTo(rip: number | null, count: number): string {
    return `{ rp=${rip ?? 'NaN'}; nx=${count}; break out; }`;
  }

  endAt(rip: number, count: number): void {
    this.emit(this.exitTo(rip, count));
    this.ended = true;
  }

  /**
   * After a soft access (ld/st operands: `c.rd32(ea,1)`): an MMIO exit set `c.exitPending`; report the
   * instruction's index and return -1 to the dispatcher (no throw; the instruction had no
   * effect: ld/st access memory before anything of the instruction is committed).
   */
  softExit(): string { return `if (c.exitPending) { c.faultIndex=${this.ret(this.k)}; ${this.exitTo(null, -1)} }`; }

  /**
   * The block continues at this direct JMP/CALL's target (translate followed it inside the
   * page): no exit here.
   */
  followed(): boolean {
    const next = this.ds[this.k + 1];
    return next !== undefined && next.rip === this.d.target;
  }

  /**
   * After a memory write: `c.endBlock` says the write hit a page with translated code (SMC) or
   * left an APIC write pending; either ends the block, which resumes at its next instruction.
   */
  endBlockCheck(): void {
    if (this.k >= this.ds.length - 1) return;
    const leave = `if (c.endBlock) ${this.exitTo(this.ds[this.k + 1]!.rip, this.k + 1)}`;
    // Only a call into the vCPU can set c.endBlock (an accessor's slow path or a helper); an
    // inlined access's fast path never does (a page with code or an MMIO page has no plain
    // right in rt/wt). When the instruction calls the vCPU only from its inlined accesses' slow
    // paths, which set the local sw, the check reads the local: a loop's store on the fast
    // path then costs no load from the vCPU (QEMU's TLB_NOTDIRTY: the check lives on the slow path).
    let code = this.out.slice(this.insnAt).join('\n');
    for (const slow of this.slowPaths) code = code.split(slow).join('');
    if (/c\.[A-Za-z0-9]+\(/.test(code)) this.emit(leave);
    else this.emit(`if (sw!==0) { sw=0; ${leave} }`);
  }

  // ------------------------------------------------------------------------- addressing

  /** ea = effective linear address of the memory operand (SDM Vol. 1 §3.7.5). */
  ea(extra = 0): void {
    const d = this.d;
    const disp = d.memDisp + extra;
    const seg = d.memSeg === 4 ? '+c.fsBase' : d.memSeg === 5 ? '+c.gsBase' : '';
    if (d.asz === 4) {
      const parts: string[] = [];
      if (d.memBase >= 0) parts.push(`R[${d.memBase}]`);
      if (d.memIndex >= 0) parts.push(`R[${d.memIndex}]*${d.memScale}`);
      parts.push(String(disp | 0));
      this.emit(`ea=((${parts.join('+')})>>>0)${seg};`);
      return;
    }
    const b = d.memBase, x = d.memIndex;
    const reg = (r: number): string => `((R[${r}]>>>0)+R[${r + 16}]*4294967296)`;
    if (this.selfLoop && b >= 0 && b < 16 && x < 0 && seg === '' && disp === (disp | 0)) {
      // Base + disp32 in a loop block: the address's 64-bit halves as int32s too (el: low,
      // eh: high, with the carry or borrow of the displacement), so the access's page check
      // (inlineAccess) needs no floating-point arithmetic; ea is then only the slow path's.
      const carry = disp > 0 ? `(el>>>0)<(R[${b}]>>>0)?(R[${b + 16}]+1)|0:` : disp < 0 ? `(el>>>0)>(R[${b}]>>>0)?(R[${b + 16}]-1)|0:` : '';
      this.emit(`el=${disp === 0 ? `R[${b}]` : `(R[${b}]+${disp})|0`}; eh=${carry}R[${b + 16}];`);
      this.eaInt = true;
      this.usesIntEa = true;
    }
    if (b >= 0 && x >= 0) {
      this.emit(`if (((R[${b + 16}]+32768)|(R[${x + 16}]+32768))>>>16) ea=c.eaWide(R[${b}],R[${b + 16}],R[${x}],R[${x + 16}],${d.memScale},${disp})${seg}; else ea=${reg(b)}+${reg(x)}*${d.memScale}+${disp}${seg};`);
    } else if (b >= 0) {
      this.emit(`ea=${reg(b)}+${disp}${seg};`);
    } else if (x >= 0) {
      this.emit(`ea=${reg(x)}*${d.memScale}+${disp}${seg};`);
    } else {
      this.emit(`ea=${disp}${seg};`);
    }
  }

  // ------------------------------------------------------------------------- operands

  /** Load operand `o` at `size` into `v0` (and `v1` for 64-bit). rmw: read checked for write. */
  ld(o: Operand, size: number, v0: string, v1: string, rmw = false): void {
    switch (o.kind) {
      case OK.Reg: {
        const r = o.reg;
        if (size === 8) this.emit(`${v0}=R[${r}]; ${v1}=R[${r + 16}];`);
        else if (size === 4) this.emit(`${v0}=R[${r}];`);
        else if (size === 2) this.emit(`${v0}=R[${r}]&65535;`);
        else if (o.hi8) this.emit(`${v0}=(R[${r}]>>8)&255;`);
        else this.emit(`${v0}=R[${r}]&255;`);
        return;
      }
      case OK.Imm:
        if (size === 8) this.emit(`${v0}=${o.immLo}; ${v1}=${o.immHi};`);
        else this.emit(`${v0}=${size === 4 ? o.immLo : o.immLo & Number(MASKS[size])};`);
        return;
      case OK.Mem: {
        const w = rmw ? 'w' : '', f = this.memFlags();
        const slow = size === 8 ? `${v0}=c.rd${w}64(ea,${f}); ${this.softExit()} ${v1}=c.resultHi;` : `${v0}=c.rd${w}${size * 8}(ea,${f}); ${this.softExit()}`;
        const fast = size === 8 ? `${v0}=dv.getInt32(mh,true); ${v1}=dv.getInt32(mh+4,true);` : `${v0}=dv.${GET[size]}(mh${size > 1 ? ',true' : ''});`;
        this.emit(this.inlineAccess(rmw ? 'wt' : 'rt', size, fast, slow));
        return;
      }
      default:
        throw new Error(`codegen: cannot load operand kind ${o.kind} of ${this.d.text}`);
    }
  }

  /** Store v0/v1 into operand `o` at `size` (x86 width rules: 32-bit writes zero bits 63:32). */
  st(o: Operand, size: number, v0: string, v1: string): void {
    if (o.kind === OK.Reg) {
      const r = o.reg;
      if (size === 8) this.emit(`R[${r}]=${v0}; R[${r + 16}]=${v1};`);
      else if (size === 4) this.emit(`R[${r}]=${v0}; R[${r + 16}]=0;`);
      else if (size === 2) this.emit(`R[${r}]=(R[${r}]&-65536)|(${v0}&65535);`);
      else if (o.hi8) this.emit(`R[${r}]=(R[${r}]&-65281)|((${v0}&255)<<8);`);
      else this.emit(`R[${r}]=(R[${r}]&-256)|(${v0}&255);`);
      return;
    }
    if (o.kind === OK.Mem) {
      const f = this.memFlags();
      const slow = size === 8 ? `c.wr64(ea,${v0},${v1},${f}); ${this.softExit()}` : `c.wr${size * 8}(ea,${v0},${f}); ${this.softExit()}`;
      const fast = size === 8 ? `dv.setInt32(mh,${v0},true); dv.setInt32(mh+4,${v1},true);` : `dv.${SET[size]}(mh,${v0}${size > 1 ? ',true' : ''});`;
      this.emit(this.inlineAccess('wt', size, fast, slow));
      return;
    }
    throw new Error(`codegen: cannot store to operand kind ${o.kind} of ${this.d.text}`);
  }

  /**
   * The accessors' TLB fast path, inlined (memory.ts rd32 etc.): the page's tag in the current
   * privilege's read or write rights (`rt`/`wt`, cached in locals at block entry: nothing
   * inside a block changes the CPL) and the access within the page; then mh is the host
   * address. Otherwise the accessor runs (TLB fill, page crossing, MMIO, faults).
   * In a loop block each access (up to MAX_PAGE_SLOTS) also remembers the last page the TLB
   * check let through, its linear base `pbN` and host base `phN` (a one-entry TLB per access,
   * like a JIT that hoists a loop's translation): the next iteration on that page needs one
   * subtraction and compare. Only a fast-path hit fills it, so it never holds an MMIO page, a
   * page with code (its writes leave the fast path: the TLB caches no plain W for it) or a fault.
   */
  inlineAccess(tags: 'rt' | 'wt', size: number, fast: string, accessor: string): string {
    const within = size === 1 ? '' : `&&(ea&4095)<=${4096 - size}`;
    this.memInline = true;
    this.usesSlowMark = true;
    const slow = `sw=1; ${accessor}`;
    this.slowPaths.push(slow);
    // Host addresses are below the RAM size (< 2^31, ram.ts MAX_RAM_SIZE): mh as an int32 is cheaper to index with.
    const tlb = `mp=Math.floor(ea/4096); mx=mp&4095; if (${tags}[mx]===mp${within})`;
    if (!this.selfLoop || this.pageSlots >= MAX_PAGE_SLOTS) return `${tlb} { mh=(ea+td[mx])|0; ${fast} } else { ${slow} }`;
    const j = this.pageSlots++;
    if (this.eaInt) {
      // The page as int32 halves: pbN its low half (1, never a page base, while empty), pxN
      // its high half, phN host address - low half (mod 2^32). el/eh are ea's exact halves,
      // so a match is the same linear page, which the TLB let through for this access.
      this.intSlots.add(j);
      const inPage = size === 1 ? '' : `&&(el&4095)<=${4096 - size}`;
      return `if ((el&-4096)===pb${j}&&eh===px${j}${inPage}) { mh=(el+ph${j})|0; ${fast} } ` +
        `else { ${tlb} { mh=(ea+td[mx])|0; pb${j}=el&-4096; px${j}=eh; ph${j}=(mh-el)|0; ${fast} } else { ${slow} } }`;
    }
    return `mh=ea-pb${j}; if (mh>=0&&mh<=${4096 - size}) { mh=(mh+ph${j})|0; ${fast} } ` +
      `else { ${tlb} { pb${j}=mp*4096; ph${j}=pb${j}+td[mx]; mh=(ea+td[mx])|0; ${fast} } else { ${slow} } }`;
  }

  hasMem(): boolean { return this.d.ops.some((o) => o.kind === OK.Mem); }

  /**
   * Accessor flags of the explicit memory operand: soft (1), plus 2 when its segment is SS (an
   * RSP/RBP base): a non-canonical address then raises #SS(0), not #GP(0) (SDM Vol. 3A §6.15).
   */
  memFlags(): number { return this.d.memSeg === 2 ? 3 : 1; }

  // ------------------------------------------------------------------------- flags

  setLazy(kind: FK, size: number, withAB: boolean, withC: boolean): void {
    if (!this.flagsLive) return;
    const fo = kind * 4 + szlog(size);
    this.usesLazy = true;
    let s = `lzOp=${fo}; lzR=r0;`;
    if (size === 8) s += ' lzRH=r1;';
    if (withAB) { s += ' lzA=a0; lzB=b0;'; if (size === 8) s += ' lzAH=a1; lzBH=b1;'; }
    if (withC) s += ' lzC=t;';
    this.emit(s);
    this.known = kind;
    this.knownSize = size;
  }

  /** Flags were changed by a helper: the lazy kind is no longer known statically. */
  unknownFlags(): void { this.known = -1; }

  /** JS boolean expression for condition `cc` (0..15). */
  cond(cc: number): string {
    const kind = this.known, s = this.knownSize;
    const neg = (cc & 1) !== 0;
    const base = cc >> 1;
    let e: string | null = null;
    const zf = s === 8 ? '(lzR|lzRH)===0' : s === 4 ? 'lzR===0' : `(lzR&${MASKS[s]})===0`;
    const sf = s === 8 ? 'lzRH<0' : s === 4 ? 'lzR<0' : `(lzR&${s === 2 ? 0x8000 : 0x80})!==0`;
    if (kind >= 0) {
      if (base === 2) e = zf;
      else if (base === 4) e = sf;
      else if (kind === FK.Logic) {
        if (base === 0 || base === 1) e = 'false';
        else if (base === 3) e = zf;
        else if (base === 6) e = sf;
        else if (base === 7) e = `(${zf}||${sf})`;
      } else if (kind === FK.Sub) {
        const sx = (v: string): string => (s === 1 ? `(${v}<<24)` : s === 2 ? `(${v}<<16)` : v);
        const ltu = s === 8 ? '((lzAH>>>0)<(lzBH>>>0)||(lzAH===lzBH&&(lzA>>>0)<(lzB>>>0)))' : s === 4 ? '((lzA>>>0)<(lzB>>>0))' : `((lzA&${MASKS[s]})<(lzB&${MASKS[s]}))`;
        const lts = s === 8 ? '(lzAH<lzBH||(lzAH===lzBH&&(lzA>>>0)<(lzB>>>0)))' : `(${sx('lzA')}<${sx('lzB')})`;
        if (base === 1) e = ltu;
        else if (base === 3) e = `(${ltu}||${zf})`;
        else if (base === 6) e = lts;
        else if (base === 7) e = `(${lts}||${zf})`;
      }
    }
    if (e === null) return `c.cond(${cc})`;
    return neg ? `!(${e})` : e;
  }

  // ------------------------------------------------------------------------- instructions

  insn(): void {
    const d = this.d;
    const mn = d.mn;
    const cc = CC_OF[mn];
    const aluKind = ALU[mn];
    if (aluKind !== undefined) return this.alu(aluKind, mn === M.Cmp || mn === M.Test);
    if (cc !== undefined) {
      if (SETCC.has(mn)) return this.setcc(cc);
      if (d.ops.length === 1 && d.ops[0]!.kind === OK.Branch) return this.jcc(cc);
      if (d.ops.length === 2) return this.cmov(cc);
    }
    switch (mn) {
      case M.Nop: case M.Pause: case M.Lfence: case M.Mfence: case M.Sfence: case M.Prefetchnta: case M.Prefetcht0:
      case M.Prefetcht1: case M.Prefetcht2: case M.Prefetchw: case M.Endbr64: case M.Clflush:
        return; // NOP (0F 1F /0 all forms, 90, F3 90 PAUSE); fences/prefetch: no architectural effect here
      case M.Mov: return this.mov();
      case M.Movzx: case M.Movsx: case M.Movsxd: return this.movx(mn !== M.Movzx);
      case M.Lea: return this.lea();
      case M.Xchg: return this.xchg();
      case M.Inc: case M.Dec: return this.incdec(mn === M.Inc);
      case M.Neg: return this.neg();
      case M.Not: return this.not();
      case M.Push: return this.push();
      case M.Pop: return this.pop();
      case M.Jmp: return this.jmp();
      case M.Call: return this.call();
      case M.Ret: return this.retn();
      case M.Loop: case M.Loope: case M.Loopne: case M.Jrcxz: case M.Jecxz: return this.loop();
      case M.Cbw: this.emit('R[0]=(R[0]&-65536)|(((R[0]<<24)>>24)&65535);'); return; // 66 98 CBW
      case M.Cwde: this.emit('R[0]=(R[0]<<16)>>16; R[16]=0;'); return; // 98 CWDE
      case M.Cdqe: this.emit('R[16]=R[0]>>31;'); return; // REX.W 98 CDQE
      case M.Cwd: this.emit('R[2]=(R[2]&-65536)|(((R[0]<<16)>>31)&65535);'); return; // 66 99
      case M.Cdq: this.emit('R[2]=R[0]>>31; R[18]=0;'); return; // 99
      case M.Cqo: this.emit('R[2]=R[16]>>31; R[18]=R[2];'); return; // REX.W 99
      case M.Bswap: return this.bswap();
      case M.Clc: case M.Stc: case M.Cmc:
        this.emit(`c.setCF(${mn === M.Clc ? 0 : mn === M.Stc ? 1 : 2});`); this.unknownFlags(); return;
      case M.Cld: this.emit('c.rflags&=~0x400;'); return;
      case M.Std: this.emit('c.rflags|=0x400;'); return;
      case M.Shl: case M.Sal: case M.Shr: case M.Sar: case M.Rol: case M.Ror: case M.Rcl: case M.Rcr: return this.shift();
      case M.Shld: case M.Shrd: return this.shd();
      case M.Bt: case M.Bts: case M.Btr: case M.Btc: return this.bt();
      case M.Bsf: case M.Bsr: case M.Tzcnt: case M.Lzcnt: case M.Popcnt: return this.bitscan();
      case M.Mul: case M.Div: case M.Idiv: return this.muldiv();
      case M.Imul: return d.ops.length === 1 ? this.muldiv() : this.imul();
      case M.Xadd: return this.xadd();
      case M.Cmpxchg: return this.cmpxchg();
      case M.Leave: return this.leave();
      case M.Pushfq: case M.Pushf: return this.pushf();
      case M.Movsb: case M.Movsw: case M.Movsd: case M.Movsq: case M.Stosb: case M.Stosw: case M.Stosd: case M.Stosq:
      case M.Lodsb: case M.Lodsw: case M.Lodsd: case M.Lodsq: case M.Cmpsb: case M.Cmpsw: case M.Cmpsd: case M.Cmpsq:
      case M.Scasb: case M.Scasw: case M.Scasd: case M.Scasq:
        if (mn === M.Movsd && d.ops.some((o) => o.kind !== OK.Str)) break; // SSE MOVSD
        this.emit(`${SPILL}c.str(D[${this.k}]);${FILL}`);
        this.unknownFlags();
        this.endBlockCheck();
        return;
      default:
        break;
    }
    // Everything else: the vCPU's slow-path helper (system instructions, exits, #UD).
    this.emit(`${SPILL}t=c.sys(D[${this.k}],${this.ret(this.k)});${FILL}`);
    this.unknownFlags();
    if (this.k === this.ds.length - 1) {
      // sys() sets c.rip when it transfers control; otherwise falls through.
      this.emit(`if (t) ${this.exitTo(null, this.k + 1)}`);
    } else {
      this.emit(`if (t) ${this.exitTo(null, this.k + 1)}`);
      this.endBlockCheck();
    }
  }

  alu(kind: FK, noWrite: boolean): void {
    const d = this.d;
    const s = d.osz;
    const [dst, src] = [d.ops[0]!, d.ops[1]!];
    const mem = this.hasMem();
    if (mem) this.ea();
    // XOR/SUB reg,reg with itself: zero idiom.
    this.ld(dst, s, 'a0', 'a1', mem && !noWrite);
    this.ld(src, s, 'b0', 'b1');
    const m = MASKS[s];
    let withC = false;
    if (kind === FK.Adc || kind === FK.Sbb) { this.emit('t=c.carryFlag();'); withC = true; }
    const mn = d.mn;
    if (s === 8) {
      switch (kind) {
        case FK.Add: this.emit('u=(a0>>>0)+(b0>>>0); r0=u|0; r1=(a1+b1+(u>4294967295?1:0))|0;'); break;
        case FK.Adc: this.emit('u=(a0>>>0)+(b0>>>0)+t; r0=u|0; r1=(a1+b1+(u>4294967295?1:0))|0;'); break;
        case FK.Sub: this.emit('u=(a0>>>0)-(b0>>>0); r0=u|0; r1=(a1-b1-(u<0?1:0))|0;'); break;
        case FK.Sbb: this.emit('u=(a0>>>0)-(b0>>>0)-t; r0=u|0; r1=(a1-b1-(u<0?1:0))|0;'); break;
        default: {
          const op = mn === M.Or ? '|' : mn === M.Xor ? '^' : '&';
          this.emit(`r0=a0${op}b0; r1=a1${op}b1;`);
        }
      }
    } else {
      const fin = s === 4 ? '|0' : `&${m}`;
      switch (kind) {
        case FK.Add: this.emit(`r0=(a0+b0)${fin};`); break;
        case FK.Adc: this.emit(`r0=(a0+b0+t)${fin};`); break;
        case FK.Sub: this.emit(`r0=(a0-b0)${fin};`); break;
        case FK.Sbb: this.emit(`r0=(a0-b0-t)${fin};`); break;
        default: {
          const op = mn === M.Or ? '|' : mn === M.Xor ? '^' : '&';
          this.emit(`r0=a0${op}b0;`);
        }
      }
    }
    if (!noWrite) this.st(dst, s, 'r0', 'r1');
    this.setLazy(kind, s, kind !== FK.Logic, withC);
    if (mem && !noWrite) this.endBlockCheck();
  }

  setcc(cc: number): void {
    const o = this.d.ops[0]!;
    if (o.kind === OK.Mem) this.ea();
    this.emit(`r0=${this.cond(cc)}?1:0;`);
    this.st(o, 1, 'r0', '');
    if (o.kind === OK.Mem) this.endBlockCheck();
  }

  /** CMOVcc (0F 40+cc): the source is read (and may fault) either way; r32 dest always zero-extends. */
  cmov(cc: number): void {
    const d = this.d, s = d.osz;
    const [dst, src] = [d.ops[0]!, d.ops[1]!];
    if (src.kind === OK.Mem) this.ea();
    this.ld(src, s, 'b0', 'b1');
    this.ld(dst, s, 'a0', 'a1');
    this.emit(`if (${this.cond(cc)}) { a0=b0; a1=b1; }`);
    this.st(dst, s, 'a0', 'a1');
  }

  jcc(cc: number): void {
    const d = this.d;
    this.branchIf(this.cond(cc), d.target);
  }

  /**
   * A near branch to a non-canonical target (decode gives NaN) raises #GP(0) at the branch,
   * which has had no effect (SDM Vol. 3A §6.15: in 64-bit mode RIP must be canonical).
   */
  badTarget(): void {
    this.emit('c.raise(13,0);');
    this.ended = true;
  }

  /** Conditional end of block: taken -> target, else fallthrough. */
  branchIf(cond: string, target: number): void {
    const d = this.d, n = this.ds.length;
    if (Number.isNaN(target)) {
      this.emit(`if (${cond}) c.raise(13,0);`);
      this.endAt(d.next, this.k + 1);
      return;
    }
    if (this.selfLoop && target === this.ds[0]!.rip && this.k === n - 1) {
      // Every store and helper that can set c.endBlock is followed by its endBlockCheck, which
      // leaves the loop: the back edge checks only the budget.
      this.emit(`if (${cond}) { if ((k+2)*${n} <= budget) { k++; continue; } ${this.exitTo(target, n)} }`);
      this.emit(this.exitTo(d.next, n));
    } else {
      this.emit(`if (${cond}) ${this.exitTo(target, this.k + 1)}`);
      this.emit(this.exitTo(d.next, this.k + 1));
    }
    this.ended = true;
  }

  mov(): void {
    const d = this.d;
    const [dst, src] = [d.ops[0]!, d.ops[1]!];
    if ((dst.kind === OK.Reg && dst.reg < 0) || (src.kind === OK.Reg && src.reg < 0)) {
      // MOV to/from CRn (0F 20/22) or segment registers (8C/8E): slow path.
      this.emit(`${SPILL}c.sys(D[${this.k}],${this.ret(this.k)});${FILL}`);
      this.unknownFlags();
      return;
    }
    const s = dst.kind === OK.Reg ? dst.size : src.kind === OK.Reg ? src.size : d.osz;
    if (this.hasMem()) this.ea();
    this.ld(src, s, 'a0', 'a1');
    this.st(dst, s, 'a0', 'a1');
    if (dst.kind === OK.Mem) this.endBlockCheck();
  }

  /** MOVZX (0F B6/B7), MOVSX (0F BE/BF), MOVSXD (63 /r). */
  movx(signed: boolean): void {
    const d = this.d;
    const [dst, src] = [d.ops[0]!, d.ops[1]!];
    const s = dst.size;
    const ss = src.kind === OK.Reg ? src.size : d.memSize || d.ops[1]!.size;
    if (src.kind === OK.Mem) this.ea();
    this.ld(src, ss, 'a0', 'a1');
    if (signed) {
      if (ss === 1) this.emit('a0=(a0<<24)>>24;');
      else if (ss === 2) this.emit('a0=(a0<<16)>>16;');
      this.emit('a1=a0>>31;');
    } else {
      this.emit('a1=0;');
    }
    if (s === 2) this.emit('a0&=65535;');
    this.st(dst, s, 'a0', 'a1');
  }

  /** LEA (8D /r): the address arithmetic at the operand size, no memory access. */
  lea(): void {
    const d = this.d, dst = d.ops[0]!;
    const s = dst.size;
    const b = d.memBase, x = d.memIndex, disp = d.memDisp;
    if (s === 8 && d.asz === 8) {
      const half = (r: number): string => (r >= 0 ? `R[${r}],R[${r + 16}]` : '0,0');
      this.emit(`c.lea64(${half(b)},${half(x)},${d.memScale},${disp}); R[${dst.reg}]=c.resultLo; R[${dst.reg + 16}]=c.resultHi;`);
      return;
    }
    const parts: string[] = [];
    if (b >= 0) parts.push(`R[${b}]`);
    if (x >= 0) parts.push(`R[${x}]*${d.memScale}`);
    parts.push(String(disp | 0));
    this.emit(`a0=(${parts.join('+')})|0; a1=0;`);
    this.st(dst, s === 8 ? 8 : s, 'a0', 'a1');
  }

  xchg(): void {
    const d = this.d, s = d.osz;
    const [a, b] = [d.ops[0]!, d.ops[1]!];
    if (a.kind === OK.Mem || b.kind === OK.Mem) {
      const [m, r] = a.kind === OK.Mem ? [a, b] : [b, a];
      this.ea();
      this.ld(m, s, 'a0', 'a1', true);
      this.ld(r, s, 'b0', 'b1');
      this.st(m, s, 'b0', 'b1');
      this.st(r, s, 'a0', 'a1');
      this.endBlockCheck();
      return;
    }
    this.ld(a, s, 'a0', 'a1');
    this.ld(b, s, 'b0', 'b1');
    this.st(a, s, 'b0', 'b1');
    this.st(b, s, 'a0', 'a1');
  }

  incdec(inc: boolean): void {
    const d = this.d, s = d.osz, o = d.ops[0]!;
    const mem = o.kind === OK.Mem;
    if (mem) this.ea();
    this.ld(o, s, 'a0', 'a1', mem);
    const dd = inc ? 1 : -1;
    if (s === 8) this.emit(`r0=(a0+${dd})|0; r1=(a1+(${inc ? 'r0===0' : 'a0===0'}?${dd}:0))|0;`);
    else this.emit(`r0=(a0+${dd})${s === 4 ? '|0' : `&${MASKS[s]}`};`);
    this.st(o, s, 'r0', 'r1');
    if (this.flagsLive) {
      this.emit('t=c.carryFlag();');
      this.setLazy(inc ? FK.Inc : FK.Dec, s, false, true);
    }
    if (mem) this.endBlockCheck();
  }

  /** NEG (F6/F7 /3): flags as SUB 0 - a (CF = a != 0). */
  neg(): void {
    const d = this.d, s = d.osz, o = d.ops[0]!;
    const mem = o.kind === OK.Mem;
    if (mem) this.ea();
    this.ld(o, s, 'b0', 'b1', mem);
    this.emit('a0=0; a1=0;');
    if (s === 8) this.emit('r0=(-b0)|0; r1=(-b1-(b0!==0?1:0))|0;');
    else this.emit(`r0=(-b0)${s === 4 ? '|0' : `&${MASKS[s]}`};`);
    this.st(o, s, 'r0', 'r1');
    this.setLazy(FK.Sub, s, true, false);
    if (mem) this.endBlockCheck();
  }

  not(): void {
    const d = this.d, s = d.osz, o = d.ops[0]!;
    const mem = o.kind === OK.Mem;
    if (mem) this.ea();
    this.ld(o, s, 'a0', 'a1', mem);
    this.emit(s === 8 ? 'a0=~a0; a1=~a1;' : `a0=~a0${s === 4 ? '' : `&${MASKS[s]}`};`);
    this.st(o, s, 'a0', 'a1');
    if (mem) this.endBlockCheck();
  }

  bswap(): void {
    const o = this.d.ops[0]!, r = o.reg;
    const sw = (v: string): string => `((${v}<<24)|((${v}&0xff00)<<8)|((${v}>>>8)&0xff00)|(${v}>>>24))`;
    if (o.size === 8) this.emit(`a0=R[${r}]; a1=R[${r + 16}]; R[${r}]=${sw('a1')}; R[${r + 16}]=${sw('a0')};`);
    else if (o.size === 4) this.emit(`a0=R[${r}]; R[${r}]=${sw('a0')}; R[${r + 16}]=0;`);
    else this.emit(`R[${r}]&=-65536;`); // BSWAP r16 is undefined (SDM); real CPUs give 0
  }

  /** rsp - size -> b0/b1, ea; the caller writes memory and then commits RSP. */
  stackDown(size: number): void {
    this.emit(`b0=(R[4]-${size})|0; b1=(R[4]>>>0)<${size}?(R[20]-1)|0:R[20]; ea=(b0>>>0)+b1*4294967296;`);
  }
  commitRsp(): void { this.emit('R[4]=b0; R[20]=b1;'); }

  /**
   * The 8-byte stack store at ea (PUSH, CALL) and load into a0/a1 (POP, RET): the accessors'
   * TLB fast path inlined like any operand's (inlineAccess), else the accessor with SS
   * semantics (flags 2: #SS(0) for a non-canonical address; an exit throws).
   */
  stackWrite64(lo: string, hi: string): void {
    this.eaInt = false;
    this.emit(this.inlineAccess('wt', 8, `dv.setInt32(mh,${lo},true); dv.setInt32(mh+4,${hi},true);`, `c.wr64(ea,${lo},${hi},2);`));
  }
  stackRead64(): void {
    this.eaInt = false;
    this.emit(this.inlineAccess('rt', 8, 'a0=dv.getInt32(mh,true); a1=dv.getInt32(mh+4,true);', 'a0=c.rd64(ea,2); a1=c.resultHi;'));
  }
  /** Add to RSP (64-bit). */
  rspAdd(n: number): void {
    this.emit(`u=(R[4]>>>0)+${n}; R[4]=u|0; if (u>4294967295) R[20]=(R[20]+1)|0;`);
  }

  /** PUSH r/m/imm (50+r, FF /6, 6A, 68): 8 bytes, or 2 with 66. */
  push(): void {
    const d = this.d, o = d.ops[0]!;
    // 66 6A ib / 66 68 iw push a word (SDM PUSH: "PUSH imm16"); d.osz is the immediate's size.
    const imm16 = d.code === Code.Pushw_imm8 || d.code === Code.Push_imm16;
    const s = o.kind === OK.Reg ? o.size : d.osz === 2 || imm16 ? 2 : 8;
    if (o.kind === OK.Mem) this.ea();
    if (o.kind === OK.Imm) {
      this.emit(`a0=${s === 2 ? o.immLo & 0xffff : o.immLo}; a1=${o.immHi};`);
    } else this.ld(o, s, 'a0', 'a1');
    this.stackDown(s);
    if (s === 8) this.stackWrite64('a0', 'a1');
    else this.emit('c.wr16(ea,a0,2);');
    this.commitRsp();
    this.endBlockCheck();
  }

  /** POP r/m (58+r, 8F /0). A memory destination based on RSP uses the incremented RSP. */
  pop(): void {
    const d = this.d, o = d.ops[0]!;
    const s = o.kind === OK.Reg ? o.size : d.osz === 2 ? 2 : 8;
    this.emit('ea=(R[4]>>>0)+R[20]*4294967296;');
    if (s === 8) this.stackRead64();
    else this.emit('a0=c.rd16(ea,2);');
    if (o.kind === OK.Mem) {
      this.ea(d.memBase === 4 ? s : 0);
      this.st(o, s, 'a0', 'a1');
      this.rspAdd(s);
      this.endBlockCheck();
      return;
    }
    this.rspAdd(s);
    this.st(o, s, 'a0', 'a1'); // POP RSP: the popped value wins
  }

  pushf(): void {
    this.emit('a0=c.getRflags()&~0x30000; a1=0;');
    this.stackDown(8);
    this.emit('c.wr64(ea,a0,a1,2);');
    this.commitRsp();
    this.endBlockCheck();
  }

  /** LEAVE (C9): RSP = RBP, then POP RBP. */
  leave(): void {
    this.emit('ea=(R[5]>>>0)+R[21]*4294967296; a0=c.rd64(ea,2); a1=c.resultHi; b0=R[5]; b1=R[21];');
    this.emit('u=(b0>>>0)+8; R[4]=u|0; R[20]=u>4294967295?(b1+1)|0:b1; R[5]=a0; R[21]=a1;');
  }

  /** Load an indirect branch target (r/m64) into a0/a1. */
  target(): void {
    const o = this.d.ops[0]!;
    if (o.kind === OK.Mem) this.ea();
    this.ld(o, 8, 'a0', 'a1');
  }

  jmp(): void {
    const d = this.d, o = d.ops[0]!;
    if (o.kind === OK.Branch) {
      if (Number.isNaN(d.target)) return this.badTarget();
      if (!this.followed()) this.endAt(d.target, this.k + 1);
      return;
    }
    this.target();
    this.emit(`c.jumpTo(a0,a1); ${this.exitTo(null, this.k + 1)}`);
    this.ended = true;
  }

  call(): void {
    const d = this.d, o = d.ops[0]!;
    const nl = d.next | 0, nh = Math.floor(d.next / 4294967296) | 0;
    if (o.kind === OK.Branch) {
      if (Number.isNaN(d.target)) return this.badTarget(); // checked before the push
      this.stackDown(8);
      this.stackWrite64(String(nl), String(nh));
      this.commitRsp();
      if (this.followed()) this.endBlockCheck();
      else this.endAt(d.target, this.k + 1);
      return;
    }
    this.target();
    this.emit('c.checkCanonical(a0,a1);');
    this.stackDown(8);
    this.stackWrite64(String(nl), String(nh));
    this.commitRsp();
    this.emit(`c.jumpTo(a0,a1); ${this.exitTo(null, this.k + 1)}`);
    this.ended = true;
  }

  /** RET (C3) / RET imm16 (C2 iw). */
  retn(): void {
    const d = this.d;
    const imm = d.ops[0]?.kind === OK.Imm ? d.ops[0].immLo & 0xffff : 0;
    this.emit('ea=(R[4]>>>0)+R[20]*4294967296;');
    this.stackRead64();
    // Canonical (bits 63:47 equal) when the high half sign-extends from its low 16 bits: the
    // vCPU is called only to raise #GP(0).
    this.emit('if (((a1<<16)>>16)!==a1) c.checkCanonical(a0,a1);');
    this.rspAdd(8 + imm);
    const next = this.ds[this.k + 1];
    if (next !== undefined) {
      // translate continued the block at the return address of a call earlier in the block
      // (a return-address prediction): go on when the popped address is that one.
      const lo = next.rip | 0, hi = Math.floor(next.rip / 4294967296) | 0;
      this.emit(`if (a0!==${lo}||a1!==${hi}) { c.jumpTo(a0,a1); ${this.exitTo(null, this.k + 1)} }`);
      return;
    }
    this.emit(`c.jumpTo(a0,a1); ${this.exitTo(null, this.k + 1)}`);
    this.ended = true;
  }

  /** LOOP/LOOPE/LOOPNE (E2/E1/E0), JRCXZ/JECXZ (E3): RCX (ECX with 67) counter, flags untouched. */
  loop(): void {
    const d = this.d, mn = d.mn;
    const w = d.asz === 4 ? 4 : 8;
    if (mn === M.Jrcxz || mn === M.Jecxz) {
      this.branchIf(w === 8 ? '(R[1]|R[17])===0' : 'R[1]===0', d.target);
      return;
    }
    const bad = Number.isNaN(d.target);
    // A taken LOOP to a non-canonical target faults with RCX unchanged: commit RCX after the test.
    const commit = w === 8 ? 'R[1]=r0; R[17]=r1;' : 'R[1]=r0; R[17]=0;';
    if (w === 8) this.emit(`r0=(R[1]-1)|0; r1=R[1]===0?(R[17]-1)|0:R[17]; ${bad ? '' : commit} t=(r0|r1)!==0?1:0;`);
    else this.emit(`r0=(R[1]-1)|0; ${bad ? '' : commit} t=r0!==0?1:0;`);
    let cond = 't';
    if (mn === M.Loope) cond = `t&&${this.cond(4)}`;
    if (mn === M.Loopne) cond = `t&&${this.cond(5)}`;
    if (bad) {
      this.emit(`if (${cond}) c.raise(13,0); ${commit}`);
      this.endAt(d.next, this.k + 1);
      return;
    }
    this.branchIf(cond, d.target);
  }

  // ---------------------------------------------------------------------- helper-based ops

  /** Shifts/rotates (C0/C1/D0-D3 groups): count from imm8, 1 or CL; flags set eagerly. */
  shift(): void {
    const d = this.d, s = d.osz, [o, c] = [d.ops[0]!, d.ops[1]];
    const mem = o.kind === OK.Mem;
    if (mem) this.ea();
    this.ld(o, s, 'a0', 'a1', mem);
    const cnt = !c ? '1' : c.kind === OK.Imm ? String(c.immLo & 0xff) : 'R[1]&255';
    this.emit(`r0=c.shift(${d.mn},${s},a0,a1,${cnt}); r1=c.resultHi;`);
    this.st(o, s, 'r0', 'r1');
    this.unknownFlags();
    if (mem) this.endBlockCheck();
  }

  shd(): void {
    const d = this.d, s = d.osz, [o, src, c] = [d.ops[0]!, d.ops[1]!, d.ops[2]!];
    const mem = o.kind === OK.Mem;
    if (mem) this.ea();
    this.ld(o, s, 'a0', 'a1', mem);
    this.ld(src, s, 'b0', 'b1');
    const cnt = c.kind === OK.Imm ? String(c.immLo & 0xff) : 'R[1]&255';
    this.emit(`r0=c.shiftD(${d.mn === M.Shld ? 1 : 0},${s},a0,a1,b0,b1,${cnt}); r1=c.resultHi;`);
    this.st(o, s, 'r0', 'r1');
    this.unknownFlags();
    if (mem) this.endBlockCheck();
  }

  /** BT/BTS/BTR/BTC (0F A3/AB/B3/BB, 0F BA /4-7). Register offsets address beyond a memory operand. */
  bt(): void {
    const d = this.d, s = d.osz, [o, b] = [d.ops[0]!, d.ops[1]!];
    const op = d.mn === M.Bt ? 0 : d.mn === M.Bts ? 1 : d.mn === M.Btr ? 2 : 3;
    if (o.kind === OK.Mem) {
      this.ea();
      const ss = d.memSeg === 2 ? 2 : 0;
      if (b.kind === OK.Imm) this.emit(`c.btMem(${op},${s},ea,${b.immLo & (s * 8 - 1)},0,${ss});`);
      else { this.ld(b, s, 'b0', 'b1'); this.emit(`c.btMem(${op},${s},ea,b0,${s === 8 ? 'b1' : s === 4 ? 'b0>>31' : s === 2 ? '(b0<<16)>>31' : '0'},${ss});`); }
      this.unknownFlags();
      if (op !== 0) this.endBlockCheck();
      return;
    }
    this.ld(o, s, 'a0', 'a1');
    if (b.kind === OK.Imm) this.emit(`b0=${b.immLo & 0xff};`);
    else this.ld(b, s, 'b0', 'b1');
    this.emit(`r0=c.btReg(${op},${s},a0,a1,b0); r1=c.resultHi;`);
    if (op !== 0) this.st(o, s, 'r0', 'r1');
    this.unknownFlags();
  }

  bitscan(): void {
    const d = this.d, s = d.osz, [o, src] = [d.ops[0]!, d.ops[1]!];
    if (src.kind === OK.Mem) this.ea();
    this.ld(src, s, 'a0', 'a1');
    this.emit(`if (c.bitscan(${d.mn},${s},a0,a1)) {`);
    this.emit('r0=c.resultLo; r1=c.resultHi;');
    this.st(o, s, 'r0', 'r1');
    this.emit('}');
    this.unknownFlags();
  }

  /** MUL/IMUL/DIV/IDIV r/m (F6/F7 /4-7): implicit RDX:RAX; #DE from the helper. */
  muldiv(): void {
    const d = this.d, s = d.osz, o = d.ops[0]!;
    if (o.kind === OK.Mem) this.ea();
    this.ld(o, s, 'a0', 'a1');
    this.emit(`${SPILL}c.muldiv(${d.mn},${s},a0,${s === 8 ? 'a1' : '0'});${FILL}`);
    this.unknownFlags();
  }

  /** IMUL r, r/m (0F AF) and IMUL r, r/m, imm (6B/69). */
  imul(): void {
    const d = this.d, s = d.osz, ops = d.ops;
    const dst = ops[0]!;
    const [x, y] = ops.length === 3 ? [ops[1]!, ops[2]!] : [ops[0]!, ops[1]!];
    if (this.hasMem()) this.ea();
    this.ld(x, s, 'a0', 'a1');
    this.ld(y, s, 'b0', 'b1');
    this.emit(`r0=c.imul2(${s},a0,a1,b0,b1); r1=c.resultHi;`);
    this.st(dst, s, 'r0', 'r1');
    this.unknownFlags();
  }

  /** XADD (0F C0/C1): TEMP = SRC + DEST; SRC = DEST; DEST = TEMP. */
  xadd(): void {
    const d = this.d, s = d.osz, [o, r] = [d.ops[0]!, d.ops[1]!];
    const mem = o.kind === OK.Mem;
    if (mem) this.ea();
    this.ld(o, s, 'a0', 'a1', mem);
    this.ld(r, s, 'b0', 'b1');
    if (s === 8) this.emit('u=(a0>>>0)+(b0>>>0); r0=u|0; r1=(a1+b1+(u>4294967295?1:0))|0;');
    else this.emit(`r0=(a0+b0)${s === 4 ? '|0' : `&${MASKS[s]}`};`);
    if (mem) { this.st(o, s, 'r0', 'r1'); this.st(r, s, 'a0', 'a1'); }
    else { this.st(r, s, 'a0', 'a1'); this.st(o, s, 'r0', 'r1'); }
    this.setLazy(FK.Add, s, true, false);
    if (mem) this.endBlockCheck();
  }

  /** CMPXCHG (0F B0/B1): flags of CMP acc, dest; equal: dest = src, else acc = dest (dest written back). */
  cmpxchg(): void {
    const d = this.d, s = d.osz, [o, r] = [d.ops[0]!, d.ops[1]!];
    const mem = o.kind === OK.Mem;
    if (mem) this.ea();
    this.ld(o, s, 'b0', 'b1', mem);
    const acc: Operand = { kind: OK.Reg, reg: 0, hi8: false, sreg: 0, size: s, immLo: 0, immHi: 0 };
    this.ld(acc, s, 'a0', 'a1');
    if (s === 8) this.emit('u=(a0>>>0)-(b0>>>0); r0=u|0; r1=(a1-b1-(u<0?1:0))|0;');
    else this.emit(`r0=(a0-b0)${s === 4 ? '|0' : `&${MASKS[s]}`};`);
    this.emit(`if (${s === 8 ? '(r0|r1)===0' : 'r0===0'}) {`);
    this.ld(r, s, 'u', 't');
    this.st(o, s, 'u', 't');
    this.emit('} else {');
    // A memory destination gets its old value written back (SDM CMPXCHG: "receives a write
    // cycle without regard to the result"); a register destination is not written at all, so a
    // 32-bit one is not zero-extended (as on hardware).
    if (mem) this.st(o, s, 'b0', 'b1');
    this.st(acc, s, 'b0', 'b1');
    this.emit('}');
    this.setLazy(FK.Sub, s, true, false);
    if (mem) this.endBlockCheck();
  }
}
