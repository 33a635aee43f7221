/**
 * The x86-64 vCPU (long mode; SDM Vol. 1-3): `run(maxInsns)` is a VM entry. Guest code runs
 * as generated block functions (codegen.ts) cached per physical page (codeCache.ts); the
 * class is built in layers, one job per file: state (vcpuState.ts), TLB (tlb.ts), memory
 * accessors (memory.ts), event delivery (events.ts), ALU and string helpers (alu.ts,
 * strings.ts), system instructions (system.ts), block lookup (blocks.ts), and here the run
 * loop that dispatches blocks, follows chained links and turns faults and exits into a
 * `VmExit`.
 */
import type { StopReason } from '../events';
import type { Block, BlockFn } from './codeCache';
import { IF } from './flags';
import { VcpuBlocks, WARM_CALL_INSNS } from './blocks';
import { EXIT, FAULT, RAN_OFF, type VcpuOptions } from './vcpuState';
import type { VmExit } from './vmexit';
import { hex } from '../hex';

export { VmExit } from './vmexit';
export { CodeCache } from './codeCache';
export type { MmioFastPath, VcpuOptions } from './vcpuState';

/**
 * Instructions one call of a block function may retire (the budget its loop counts against).
 * A loop block given a whole long run (the CLI's `runToEnd`: one entry of billions) runs it in
 * one call, so V8 only ever runs that call in on-stack-replacement code, compiled mid-loop
 * from the interpreter's frame, or, when the closure shares its feedback with an earlier
 * block of the same source (V8 caches `new Function` by source), in baseline code to the
 * end, never optimized: measured (bench/cpu.ts, one process) call/ret at 180-330 MIPS that
 * way against 400-480 when the block is called again and again and enters its optimized code;
 * tight loop 850-1170 against 1400-1500. Returning to the dispatcher every 64 Ki instructions
 * costs one chained lookup per call (well under 1 %).
 */
export const BLOCK_CALL_INSNS = 65_536;

export class Vcpu extends VcpuBlocks {
  private eptGen = -1;

  constructor(opts: VcpuOptions) {
    super(opts);
    this.codeCache.addListener(this);
  }

  // =============================================================================== run loop

  /** Execute exactly one instruction (or deliver one pending event). */
  step(): VmExit { return this.run(1); }

  /** VM entry: run until an exit, a stop, or `maxInsns` retired instructions. */
  run(maxInsns: number): VmExit {
    const ex = this.exit;
    ex.reset();
    this.exitPending = false;
    if (this.stopInfo) return this.stopExit(ex);
    if (this.ept.generation !== this.eptGen) { this.flushTlb(true); this.eptGen = this.ept.generation; }
    const start = this.retired;
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      if (p.cr2 !== null) this.cr2 = p.cr2;
      if (!this.deliverEvent(p.vector, p.errorCode, this.rip, p.external ? 'external' : 'exception')) {
        ex.retired = 0;
        if (this.takeDeliveryExit(ex)) return ex;
        return this.finishExit(ex);
      }
    }
    let prev: Block | null = null;
    for (;;) {
      if (this.stopInfo) return this.stopExit(ex);
      if (this.requestInterruptWindow && this.interruptWindowOpen()) {
        ex.reason = 'interrupt-window';
        ex.rip = this.rip;
        ex.retired = this.retired - start;
        return ex;
      }
      const left = maxInsns - (this.retired - start);
      if (left <= 0) {
        ex.reason = 'budget';
        ex.rip = this.rip;
        ex.retired = this.retired - start;
        return ex;
      }
      const single = left === 1 || (this.requestInterruptWindow && (this.rflags & IF) !== 0 && this.retired < this.shadowUntil);
      let b: Block | null = null;
      const rip = this.rip;
      if (prev !== null && !single && prev.linkEpoch === this.linkKey) {
        const l0: Block | null = prev.link0, l1: Block | null = prev.link1;
        if (l0 !== null && l0.rip === rip && l0.valid) b = l0;
        else if (l1 !== null && l1.rip === rip && l1.valid) b = l1;
      }
      try {
        if (b === null) {
          b = this.getBlock(single);
          if (prev !== null && !single) {
            if (prev.linkEpoch !== this.linkKey) { prev.link0 = null; prev.link1 = null; prev.linkEpoch = this.linkKey; }
            prev.link1 = prev.link0;
            prev.link0 = b;
          }
        }
      } catch (e) {
        if (e === FAULT) {
          // Instruction fetch fault (#PF/#GP) at RIP: nothing retired.
          if (!this.deliverFault(this.rip, null)) return this.takeDeliveryExit(ex) ? ex : this.finishExit(ex);
          continue;
        }
        if (e === EXIT) return this.fetchExit(ex, start);
        if (e === RAN_OFF) return this.stopExit(ex);
        return this.internalError(ex, e);
      }
      if (!single && b.n > left) b = this.getBlock(true);
      prev = b.single ? null : b;
      this.endBlock = false;
      let n: number;
      try {
        let cap = BLOCK_CALL_INSNS;
        if (b.warmCalls > 0) { b.warmCalls--; cap = WARM_CALL_INSNS; }
        n = (b.fn as BlockFn)(this, this.gpr, left < cap ? left : cap);
        if (n < 0) {
          // A soft VM exit at instruction faultIndex (fault-like: it had no effect).
          this.exitPending = false;
          return this.blockExit(ex, b, start);
        }
      } catch (e) {
        const fi = this.faultIndex;
        const idx = fi % b.n;
        this.retire(fi);
        const d = b.insns[idx]!;
        this.rip = d.rip;
        prev = null;
        if (e === FAULT) {
          if (!this.deliverFault(d.rip, d)) { ex.retired = this.retired - start; return this.takeDeliveryExit(ex) ? ex : this.finishExit(ex); }
          continue;
        }
        if (e === EXIT) {
          // io/rdmsr/wrmsr fields were set by sys().
          ex.setInsn(d);
          ex.rip = d.rip;
          ex.retired = this.retired - start;
          return ex;
        }
        return this.internalError(ex, e);
      }
      this.retire(n);
      // After the instruction: APICv's trap-like APIC-write exit, or the end of the run that
      // lets a virtualized write's pending interrupt be delivered here (not an exit).
      if (this.apicWritePending || this.virtualIntrEval) {
        ex.reason = this.apicWritePending ? 'apic-write' : 'budget';
        this.apicWritePending = false;
        this.virtualIntrEval = false;
        ex.rip = this.rip;
        ex.retired = this.retired - start;
        return ex;
      }
    }
  }


  private retire(n: number): void {
    this.retired += n;
    this.cycles += n * this.cyclesPerInsn;
  }

  /** The block's instruction `faultIndex` exited (soft exit): retire what ran before it and report it. */
  private blockExit(ex: VmExit, b: Block, start: number): VmExit {
    const fi = this.faultIndex;
    const d = b.insns[fi % b.n]!;
    this.retire(fi);
    this.rip = d.rip;
    ex.setInsn(d);
    ex.rip = d.rip;
    ex.retired = this.retired - start;
    return ex;
  }

  private fetchExit(ex: VmExit, start: number): VmExit {
    ex.rip = this.rip;
    ex.retired = this.retired - start;
    // Fault-like, nothing decoded or retired, whatever the EPT stopped: the fetch's walk on a
    // guest page-table page (an A-bit update on a write-protected table page, access 'write'),
    // which the VMM handles and the fetch is retried on re-entry; or the fetch itself (access
    // 'fetch') from an MMIO page or a gpa with no memory, which the VMM refuses, ending the run.
    ex.insnLength = 0;
    return ex;
  }

  private internalError(ex: VmExit, e: unknown): VmExit {
    const msg = e instanceof Error ? `${e.message}` : String(e);
    return this.stopWith(ex, 'error', `emulator error at rip ${hex(this.rip)}: ${msg}`);
  }

  private stopWith(ex: VmExit, reason: StopReason, message: string): VmExit {
    this.stopInfo = { reason, message };
    return this.stopExit(ex);
  }
  private stopExit(ex: VmExit): VmExit {
    // A triple fault in VMX non-root operation is a VM exit (SDM Vol. 3C §26.2; basic reason 2),
    // not a shutdown of the host: the VMM hears of it, and the machine ends the run.
    ex.reason = this.stopInfo?.reason === 'triple-fault' ? 'triple-fault' : 'stop';
    ex.stop = this.stopInfo ?? undefined;
    ex.rip = this.rip;
    return ex;
  }
  private finishExit(ex: VmExit): VmExit {
    if (this.stopInfo) return this.stopExit(ex);
    return ex;
  }

  /** Clear a stop (e.g. after the VMM fixed things up); the vCPU becomes runnable again. */
  clearStop(): void { this.stopInfo = null; }

}
