/** The VM-exit record `Vcpu.run` returns (a reused object: copy what you keep). */
import type { AccessKind, ExitReason, StopInfo } from '../events';

export type RunOutcome = ExitReason | 'budget' | 'stop';

/** Where the exiting instruction's bytes and text come from (the vCPU's decoded instruction). */
export interface ExitInsnSource {
  len: number;
  bytes: Uint8Array;
  text: string;
}

export class VmExit {
  reason: RunOutcome = 'budget';
  stop: StopInfo | undefined = undefined;
  /** RIP of the exiting instruction (fault-like exits) or of the next one (trap-like). */
  rip = 0;
  insnLength = 0;
  gla = 0;
  gpa = 0;
  access: AccessKind = 'read';
  /**
   * 'ept-violation': the access was to a guest paging-structure entry during the CPU's own walk
   * (reading it, or setting its accessed/dirty bit), not to the translation of the linear
   * address: exit qualification bit 8 clear (SDM Vol. 3C §27.2.1, Table 27-7).
   */
  pagingEntry = false;
  /** The vector whose delivery this exit cut short (IDT-vectoring information, SDM Vol. 3C §27.2.4), or -1. */
  vectoring = -1;
  /** Its interruption type, in short: an external interrupt, else an exception (IDT-vectoring bits 10:8). */
  vectoringExternal = false;
  /** Up to 15 instruction bytes, what AMD decode assists hand over (copied when first read). */
  get insnBytes(): Uint8Array { this.copyInsn(); return this.bytes; }
  get insnByteCount(): number { this.copyInsn(); return this.byteCount; }
  set insnByteCount(n: number) { this.copyInsn(); this.byteCount = n; }
  /** Intel-syntax text of the exiting instruction (for logs; the VMM still decodes). */
  get insnText(): string { return this.insnSrc !== null ? this.insnSrc.text : this.text; }
  set insnText(t: string) { this.copyInsn(); this.text = t; }
  port = 0;
  ioSize = 0;
  ioIn = false;
  /** OUT: the value written (low ioSize bytes of RAX); OUTS: the element read from [RSI]. */
  ioValue = 0;
  /**
   * INS/OUTS (6C-6F): one element per exit. The VMM completes it with
   * `vcpu.completeStringIo(exit, value)` (INS stores the value at ioGla = [RDI]; RSI/RDI step,
   * REP counts RCX down; RIP moves past the instruction only when the count reaches 0).
   */
  ioString = false;
  /** INS/OUTS with a REP prefix. */
  ioRep = false;
  /** INS/OUTS: linear address of the element ([RDI] for INS, [RSI] with its segment for OUTS). */
  ioGla = 0;
  /** INS/OUTS: address size in bytes (8, or 4 with 67: RSI/RDI/RCX as ESI/EDI/ECX). */
  ioAsz = 8;
  msr = 0;
  /** Instructions retired during this run() call. */
  retired = 0;

  private readonly bytes = new Uint8Array(15);
  private byteCount = 0;
  private text = '';
  /** The exiting instruction, not yet copied into bytes/text (most exits never read them). */
  private insnSrc: ExitInsnSource | null = null;

  /** Record the exiting instruction: its length now, its bytes and text when read. */
  setInsn(src: ExitInsnSource): void {
    this.insnSrc = src;
    this.insnLength = src.len;
  }

  private copyInsn(): void {
    const s = this.insnSrc;
    if (s === null) return;
    this.insnSrc = null;
    this.bytes.fill(0);
    this.bytes.set(s.bytes.subarray(0, 15));
    this.byteCount = Math.min(15, s.bytes.length);
    this.text = s.text;
  }

  reset(): void {
    this.reason = 'budget';
    this.insnSrc = null;
    this.stop = undefined;
    this.insnLength = 0;
    this.gla = 0;
    this.gpa = 0;
    this.access = 'read';
    this.pagingEntry = false;
    this.vectoring = -1;
    this.vectoringExternal = false;
    this.byteCount = 0;
    this.text = '';
    this.port = 0;
    this.ioSize = 0;
    this.ioIn = false;
    this.ioValue = 0;
    this.ioString = false;
    this.ioRep = false;
    this.ioGla = 0;
    this.ioAsz = 8;
    this.msr = 0;
    this.retired = 0;
  }
}
