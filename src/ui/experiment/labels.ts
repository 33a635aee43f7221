/** Short names for the experiment page: workloads as the seed names them, cost constants in words. */
import type { CostConstant } from '../../core/cost';

export const WORKLOAD_TITLES: Readonly<Record<string, string>> = {
  'lapic-microbench': 'LAPIC microbenchmark',
  'cpu-bound-timer': 'CPU-bound loop + timer',
  'syscall-loop': 'getuid-like syscall loop',
  'memory-copy': 'dd-like memory copy',
  'boot-cold-path': 'boot cold path',
};

export const CONSTANT_LABELS: Readonly<Record<CostConstant, string>> = {
  exit: 'VM exit + entry',
  walkRefLatency: 'walk ref: memory',
  walkRefOverhead: 'walk ref: software',
  mapPage: 'hold/release a page',
  copyBase: 'copy start-up',
  copyPerByte: 'copy per byte',
  decodeBase: 'decode, fixed',
  decodePerByte: 'decode per byte',
  emulate: 'emulate',
  icacheLookup: 'cache lookup',
  icacheInsert: 'cache insert',
  eptProtectPage: 'EPT protect a page',
  invept: 'INVEPT',
  invalidateBase: 'invalidate, fixed',
  invalidatePerEntry: 'invalidate per entry',
  apicvAccess: 'APICv access',
  apicWriteHandler: 'APIC-write handler',
  guestInsn: 'guest instruction',
  injectInterrupt: 'inject interrupt',
  ipiSend: 'send an IPI',
  timerArm: 'arm the timer',
};
