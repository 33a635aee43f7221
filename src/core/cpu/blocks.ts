/**
 * Block lookup and translation: the jump cache of the current privilege, then the VM's code
 * cache (per guest-physical page, codeCache.ts), then decode + codegen (decode.ts,
 * codegen.ts) into a block function built with `new Function` from generated source.
 */
import type { Block, BlockFn } from './codeCache';
import { genBlock } from './codegen';
import { Mnemonic } from '../iced';
import { decodeBlock, type DInsn, OK } from './decode';
import { VcpuSystem } from './system';
import { RAN_OFF } from './vcpuState';
import { hex } from '../hex';

/**
 * Priming calls of a new loop block (see genBlock). V8 gives a function its feedback vector
 * only after it has run about 8 times its bytecode size (--interrupt-budget-factor-for-
 * feedback-allocation), which a priming call, running to the function's final return,
 * counts almost whole: the later calls then record the epilogue's feedback.
 */
const PRIME_CALLS = 64;

/**
 * A new loop block's first WARM_CALLS calls get at most WARM_CALL_INSNS instructions each (the
 * run loop, vcpu.ts), then BLOCK_CALL_INSNS. V8 marks a hot function for optimization at an
 * interrupt tick (about every 132 KB of bytecode run) and compiles it at its next call; a second
 * tick within the same call compiles it again, on the stack (OSR). Given 64 Ki instructions
 * from its first call, every loop block was compiled twice per run (--trace-opt), and the code
 * it then ran depended on when the call-time compile read its type feedback: the first call's
 * loads of the TLB's Float64Array tags come back from V8's runtime as small integers, later
 * ones from the IC's handler as boxed doubles, so the same compares and adds were recorded
 * 'SignedSmall' or 'Number' (call/ret: three variants of the loop's optimized code across runs
 * of one process, --print-opt-code 3840, 3976 and 4020 bytes). Calls of 256 instructions hold
 * less than a tick (a loop runs under 1 KB of bytecode per instruction), the feedback has
 * settled long before the marking (3 + bytecode size / 150 ticks: under 60 K instructions for
 * a 64-instruction block), and the block is compiled at a call, to the same code every run.
 * An on-stack compile remains when that compile finishes during a long call still running in
 * baseline code (a tick then finds optimized code it is not running).
 */
export const WARM_CALLS = 512;
export const WARM_CALL_INSNS = 256;

/** Instructions per block at most. */
const MAX_BLOCK = 64;

/**
 * The host-physical [start, end) runs of a block's instructions, all on one page (`delta`:
 * host address - linear address), adjacent instructions merged into one run.
 */
function byteRuns(insns: DInsn[], delta: number): number[] {
  const runs: number[] = [];
  for (const d of insns) {
    const lo = d.rip + delta, hi = d.next + delta;
    if (runs.length > 0 && runs[runs.length - 1] === lo) runs[runs.length - 1] = hi;
    else runs.push(lo, hi);
  }
  return runs;
}

export abstract class VcpuBlocks extends VcpuSystem {
  private decodeBuf: DInsn[] = [];

  protected getBlock(single: boolean): Block {
    const rip = this.rip;
    const jc = single ? this.jumpCacheSingle : this.jumpCache;
    const cached = jc.get(rip);
    if (cached !== undefined && cached.valid) return cached;
    const hpa = this.xlate(rip, 'fetch');
    if (hpa < 0) this.exitMem('mmio', rip, this.mmioGpa, 'fetch');
    let b = this.codeCache.lookup(hpa, rip, single);
    // An instruction crossing into the next linear page: its decode holds only while that page
    // still maps the same physical page (a PTE write + invlpg or a CR3 switch may change it).
    if (b !== undefined && b.page2 >= 0 && this.fetchPage2(rip, hpa) !== b.page2) b = undefined;
    if (!b) b = this.translate(rip, hpa, single);
    jc.set(rip, b);
    return b;
  }

  /** Host-physical page number of the next linear page after `rip` (at `hpa`), translated for fetch. */
  private fetchPage2(rip: number, hpa: number): number {
    const first = 4096 - (hpa % 4096);
    const h2 = this.xlate(rip + first, 'fetch');
    if (h2 < 0) this.exitMem('mmio', rip + first, this.mmioGpa, 'fetch');
    return Math.floor(h2 / 4096);
  }

  /**
   * A block does not run past a program end (so a run stops exactly there), and a block that
   * starts at one over zeroed memory stops the run (`programEnds`).
   */
  private checkProgramEnd(rip: number, hpa: number, insns: DInsn[]): void {
    const what = this.programEnds.get(rip);
    if (what !== undefined && this.ram.bytes[hpa] === 0 && this.ram.bytes[hpa + 1] === 0) {
      this.stopInfo = {
        reason: 'ran-off-end',
        message: `ran off the end of the program at rip ${hex(rip)} (${what}): the zeroed memory there decodes as ` +
          "'add [rax], al'. End the program with hlt (with interrupts disabled, hlt ends the run).",
      };
      throw RAN_OFF;
    }
    for (let k = 1; k < insns.length; k++) {
      if (this.programEnds.has(insns[k]!.rip)) { insns.length = k; return; }
    }
  }

  /**
   * Continue the block across direct JMP/CALLs whose target lies in the same page, so a call
   * and its callee, or a jump and its target, run in one block function without a return to
   * the dispatcher (v86 compiles the basic blocks of a page into one function, jit.rs; QEMU
   * chains translated blocks with goto_tb). A RET after a followed CALL continues at that
   * call's return address, checked at run time (a return-address prediction: the block exits
   * as before when the popped address differs). Same page: same translation, rights and
   * code-page invalidation. Stops at a target already in the block and at MAX_BLOCK
   * instructions.
   */
  private followDirectBranches(page: Uint8Array, pageLa: number, insns: DInsn[]): void {
    const returns: number[] = [];
    for (;;) {
      const last = insns[insns.length - 1];
      if (last === undefined || insns.length >= MAX_BLOCK) return;
      let t: number;
      if ((last.mn === Mnemonic.Jmp || last.mn === Mnemonic.Call) && last.ops[0]?.kind === OK.Branch) t = last.target;
      else if (last.mn === Mnemonic.Ret && returns.length > 0) t = returns.pop()!;
      else return;
      if (!(t >= pageLa && t < pageLa + 4096) || insns.some((d) => d.rip === t)) return;
      if (last.mn === Mnemonic.Call) returns.push(last.next);
      const before = insns.length;
      decodeBlock(page.subarray(t - pageLa), t, MAX_BLOCK, insns);
      if (insns.length === before) return; // the target's instruction crosses the page end
    }
  }

  private translate(rip: number, hpa: number, single: boolean): Block {
    const off = hpa % 4096;
    const bytes = this.ram.bytes;
    const insns = this.decodeBuf;
    insns.length = 0;
    const pages = [Math.floor(hpa / 4096)];
    let page2 = -1;
    const r = decodeBlock(bytes.subarray(hpa, hpa - off + 4096), rip, single ? 1 : MAX_BLOCK, insns);
    if (insns.length === 0 && r.truncated) {
      // The first instruction crosses into the next page: fetch 15 bytes across both.
      const first = 4096 - off;
      page2 = this.fetchPage2(rip, hpa);
      const h2 = page2 * 4096;
      const buf = new Uint8Array(15);
      buf.set(bytes.subarray(hpa, hpa + first));
      buf.set(bytes.subarray(h2, h2 + 15 - first), first);
      decodeBlock(buf, rip, 1, insns);
      pages.push(page2);
    } else if (!single) this.followDirectBranches(bytes.subarray(hpa - off, hpa - off + 4096), rip - off, insns);
    if (this.programEnds.size > 0) this.checkProgramEnd(rip, hpa, insns);
    const list = insns.slice();
    const g = genBlock(list);
    // The cache's salt, a number statement after the return: this machine's blocks get type
    // feedback of their own (CodeCache.salt).
    const src = `${g.src}\n${this.codeCache.salt};`;
    let fn: BlockFn;
    try {
      fn = new Function('D', src)(list) as BlockFn;
    } catch (e) {
      throw new Error(`codegen produced invalid JS for block at ${hex(rip)}: ${(e as Error).message}\n${src}`);
    }
    const ranges = page2 >= 0
      ? [hpa, hpa - off + 4096, page2 * 4096, page2 * 4096 + list[0]!.next - rip - (4096 - off)]
      : byteRuns(list, hpa - rip);
    // A loop block's priming calls run its epilogue, changing nothing (see genBlock).
    if (g.selfLoop) for (let k = 0; k < PRIME_CALLS; k++) fn(this, this.gpr, -1);
    const b: Block = { rip, hpa, ranges, insns: list, n: list.length, fn, pages, page2, valid: true, single, src, link0: null, link1: null, linkEpoch: -1, warmCalls: g.selfLoop ? WARM_CALLS : 0 };
    this.codeCache.insert(b);
    return b;
  }
}
