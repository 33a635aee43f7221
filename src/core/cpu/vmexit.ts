/** The VM-exit record `Vcpu.run` returns (a reused object: copy what you keep). */
import type { AccessKind, ExitReason, StopInfo } from '../events';

export type RunOutcome = ExitReason | 'budget' | 'stop';

export class VmExit {
  reason: RunOutcome = 'budget';
  stop: StopInfo | undefined = undefined;
  /** RIP of the exiting instruction (fault-like exits) or of the next one (trap-like). */
  rip = 0;
  insnLength = 0;
  gla = 0;
  gpa = 0;
  access: AccessKind = 'read';
  /** Up to 15 instruction bytes, what AMD decode assists hand over. */
  readonly insnBytes = new Uint8Array(15);
  insnByteCount = 0;
  /** Intel-syntax text of the exiting instruction (for logs; the VMM still decodes). */
  insnText = '';
  port = 0;
  ioSize = 0;
  ioIn = false;
  /** OUT: the value written (low ioSize bytes of RAX). */
  ioValue = 0;
  msr = 0;
  /** Instructions retired during this run() call. */
  retired = 0;

  reset(): void {
    this.reason = 'budget';
    this.stop = undefined;
    this.insnLength = 0;
    this.gla = 0;
    this.gpa = 0;
    this.access = 'read';
    this.insnByteCount = 0;
    this.insnText = '';
    this.port = 0;
    this.ioSize = 0;
    this.ioIn = false;
    this.ioValue = 0;
    this.msr = 0;
    this.retired = 0;
  }
}
