/**
 * Event delivery in long mode (SDM Vol. 3A §6.14): exceptions and interrupts through 64-bit
 * IDT gates, with #DF / triple-fault escalation (Table 6-5), the interrupt window, and events
 * re-queued when their delivery was cut short by a VM exit (IDT-vectoring, Vol. 3C §28.2.4).
 */
import { bigToAddr, type DInsn } from './decode';
import { IF, NT, RF, TF } from './flags';
import { VcpuMemory } from './memory';
import { EXIT, FAULT } from './vcpuState';
import type { VmExit } from './vmexit';
import { DF_V, GATE_INTR, GATE_TRAP, GP, isContributory, PFV, TS, TWO32, UD } from './x86';
import { vecName } from '../vectors';
import { hex, hexBytes } from '../hex';
import { Mnemonic } from '../iced';

/** Instructions whose only job is to raise #UD. */
const UD_BY_DESIGN: ReadonlySet<number> = new Set([Mnemonic.Ud0, Mnemonic.Ud1, Mnemonic.Ud2]);

export abstract class VcpuEvents extends VcpuMemory {
  /** Set when event delivery was cut short by a VM exit (the event is pending again). */
  private deliveryExited = false;
  /** How the event being delivered began, for a triple fault's message (deliverEvent). */
  private escalationOrigin: string | null = null;

  interruptWindowOpen(): boolean {
    return (this.rflags & IF) !== 0 && this.retired >= this.shadowUntil && this.pending === null;
  }

  injectException(vector: number, errorCode?: number, cr2?: number): void {
    this.pending = { vector, errorCode: errorCode ?? -1, cr2: cr2 ?? null, external: false };
  }
  injectInterrupt(vector: number): void {
    this.pending = { vector, errorCode: -1, cr2: null, external: true };
  }

  /** True (and the exit record completed) when the last delivery attempt ended in a VM exit. */
  protected takeDeliveryExit(ex: VmExit): boolean {
    if (!this.deliveryExited) return false;
    this.deliveryExited = false;
    ex.rip = this.rip;
    ex.insnLength = 0;
    ex.vectoring = this.pending !== null ? this.pending.vector : -1;
    ex.vectoringExternal = this.pending !== null && this.pending.external;
    return true;
  }

  /**
   * Deliver the exception raised by the instruction `d` at `rip` (or by an instruction
   * fetch when d is null), escalating to #DF / triple fault per SDM Vol. 3A Table 6-5.
   * Returns false when the vCPU stopped.
   */
  protected deliverFault(rip: number, d: DInsn | null): boolean {
    const vec = this.excVec, err = this.excErr;
    if (vec === PFV) this.cr2 = this.cr2Pending;
    const noUdGate = vec === UD && d !== null && !this.gatePresent(UD);
    if (noUdGate && !UD_BY_DESIGN.has(d.mn)) {
      // An instruction this vCPU lacks: a real CPU would run it, so no guest fault follows.
      this.stopInfo = { reason: 'unsupported', message: `unsupported instruction at rip ${hex(rip)}: ${d.text} (${hexBytes(d.bytes)})` };
      return false;
    }
    this.lastException = { vector: vec, errorCode: err, rip, text: d?.text ?? '(fetch)' };
    // UD0/UD1/UD2 raise #UD by definition (SDM Vol. 2B, UD): the guest asked for it, and with no
    // #UD gate the CPU goes on as Table 6-5 says (#GP, then #DF) to the triple fault; its message
    // says where it began.
    this.escalationOrigin = noUdGate
      ? `${d.text} at rip ${hex(rip)} (${hexBytes(d.bytes)}) raises #UD (invalid opcode) by design, and the guest has no #UD handler (IDT vector 6), so it escalates to a `
      : null;
    return this.deliverEvent(vec, err, rip, 'exception');
  }

  /**
   * Deliver an event (escalating as Table 6-5 says); false when the vCPU stopped or the delivery
   * took a VM exit (the event is pending again). A triple fault's message begins with
   * `escalationOrigin` when there is one, also when the delivery that ends in it is the one
   * re-queued after an exit (an accessed bit set on a write-protected table page as the IDT is
   * read): the message does not depend on the strategy.
   */
  protected deliverEvent(vec: number, err: number, rip: number, kind: 'exception' | 'external'): boolean {
    if (this.deliverWithEscalation(vec, err, rip, kind)) {
      this.escalationOrigin = null;
      return true;
    }
    if (this.stopInfo?.reason === 'triple-fault' && this.escalationOrigin !== null) {
      this.stopInfo = { reason: 'triple-fault', message: this.escalationOrigin + this.stopInfo.message };
      this.escalationOrigin = null;
    }
    return false;
  }

  /** Whether IDT vector `vec` has a present gate (P, bit 47 of its low qword), read without side effects. */
  private gatePresent(vec: number): boolean {
    if (vec * 16 + 15 > this.idtLimit) return false;
    const lo = this.peek64(this.idtBase + vec * 16);
    return lo !== null && ((lo >> 47n) & 1n) === 1n;
  }

  protected deliverWithEscalation(vec: number, err: number, rip: number, kind: 'exception' | 'external' | 'soft', nextRip = rip): boolean {
    try {
      this.deliver(vec, err, kind === 'soft' ? nextRip : rip, kind);
      return true;
    } catch (e) {
      if (e === EXIT) {
        // An exit during event delivery (e.g. the stack push hits a page the VMM write-protected):
        // like VMX's IDT-vectoring information (SDM Vol. 3C §28.2.4), the event is re-queued and
        // delivered again on the next VM entry, after the VMM has handled the exit.
        this.pending = { vector: vec, errorCode: err, cr2: vec === PFV ? this.cr2 : null, external: kind === 'external' };
        this.deliveryExited = true;
        return false;
      }
      if (e !== FAULT) throw e;
    }
    const second = this.excVec, err2 = this.excErr;
    if (second === PFV) this.cr2 = this.cr2Pending;
    const name = vecName(vec);
    if (vec === DF_V) {
      this.stopInfo = { reason: 'triple-fault', message: `triple fault: ${vecName(second)} while delivering #DF (rip ${hex(rip)})` };
      return false;
    }
    if ((isContributory(vec) || vec === PFV) && (isContributory(second) || (vec === PFV && second === PFV))) {
      try {
        this.deliver(DF_V, 0, rip, 'exception');
        return true;
      } catch (e) {
        if (e !== FAULT && e !== EXIT) throw e;
        this.stopInfo = { reason: 'triple-fault', message: `triple fault: ${vecName(this.excVec)} while delivering #DF (after ${name}, then ${vecName(second)}) at rip ${hex(rip)}` };
        return false;
      }
    }
    // Benign first event: handle the second serially (SDM Table 6-5).
    return this.deliverWithEscalation(second, err2, rip, 'exception');
  }

  /** Long-mode event delivery through a 64-bit IDT gate (SDM Vol. 3A §6.14.1-6.14.5). */
  private deliver(vec: number, err: number, retRip: number, kind: 'exception' | 'external' | 'soft'): void {
    const was = this.implicitSupervisor;
    this.implicitSupervisor = true;
    try {
      if (vec * 16 + 15 > this.idtLimit) this.raise(GP, vec * 8 + 2 + (kind === 'external' ? 1 : 0));
      const lo = this.sysRead64(this.idtBase + vec * 16);
      const hi = this.sysRead64(this.idtBase + vec * 16 + 8);
      const type = Number((lo >> 40n) & 0xfn);
      const dpl = Number((lo >> 45n) & 3n);
      const present = ((lo >> 47n) & 1n) === 1n;
      if (!present || (type !== GATE_INTR && type !== GATE_TRAP)) this.raise(GP, vec * 8 + 2 + (kind === 'external' ? 1 : 0));
      if (kind === 'soft' && dpl < this.cpl) this.raise(GP, vec * 8 + 2);
      const sel = Number((lo >> 16n) & 0xffffn);
      const ist = Number((lo >> 32n) & 7n);
      const target64 = (lo & 0xffffn) | (((lo >> 48n) & 0xffffn) << 16n) | ((hi & 0xffffffffn) << 32n);
      const target = bigToAddr(target64);
      if (Number.isNaN(target)) this.raise(GP, 0);
      const oldCpl = this.cpl;
      const newCpl = sel & 3;
      let rsp: number;
      if (ist !== 0) rsp = this.tssRsp(0x24 + (ist - 1) * 8);
      else if (newCpl < oldCpl) rsp = this.tssRsp(4 + newCpl * 8);
      else rsp = this.regAddr(4);
      rsp = Math.floor(rsp / 16) * 16; // 64-bit mode aligns the new stack to 16 bytes (§6.14.2)
      const rflags = this.getRflags();
      const frame: number[] = [retRip, this.cs, rflags, NaN, this.ss];
      if (err >= 0) frame.unshift(err);
      let sp = rsp - frame.length * 8;
      // Write the frame (faults here leave the state untouched), then commit. The old RSP goes
      // in as its two halves: it may be non-canonical (a #SS on a non-canonical stack).
      for (let k = 0; k < frame.length; k++) {
        const v = frame[k]!;
        if (Number.isNaN(v)) this.wr64(sp + k * 8, this.gpr[4]!, this.gpr[20]!);
        else this.wr64(sp + k * 8, v | 0, Math.floor(v / TWO32) | 0);
      }
      sp = rsp - frame.length * 8;
      this.setRegNum(4, sp);
      if (newCpl !== oldCpl) this.ss = newCpl; // NULL SS with RPL = new CPL (§6.14.4)
      this.cs = sel;
      let f = this.rflags & ~(TF | NT | RF | 0x20000);
      if (type === GATE_INTR) f &= ~IF;
      this.rflags = f;
      this.rip = target;
    } finally {
      this.implicitSupervisor = was;
    }
  }

  private tssRsp(off: number): number {
    const v = bigToAddr(this.sysRead64(this.tssBase + off));
    if (Number.isNaN(v)) this.raise(TS, this.trSel & ~3);
    return v;
  }

  protected softInt(vec: number, d: DInsn): number {
    this.lastException = { vector: vec, errorCode: -1, rip: d.rip, text: d.text };
    this.deliver(vec, -1, d.next, 'soft');
    return 1;
  }
}
