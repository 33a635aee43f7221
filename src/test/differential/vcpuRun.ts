/**
 * The vCPU side of the differential test: the bytes the native assembler produced for each
 * case run on our vCPU (testEnv: long mode, CPL 0, identity-mapped RAM, an IDT whose handlers
 * halt), from the same initial registers, RFLAGS and buffer. An exception ends a case the way a
 * signal ends it natively; the frame gives its RIP, RSP and RFLAGS.
 *
 * One machine runs every case: each case's code sits where it was linked natively (followed by
 * HLT), so no code is ever rewritten, and the buffer, GPRs, RFLAGS and RIP are reset between
 * cases. The exception gates are given IST1 (SDM Vol. 3A §6.14.5) so that the frame lands on a
 * stack of its own instead of in the case's buffer, which RSP points into.
 */
import { createTestMachine, HANDLER_BASE, IDT_BASE, TSS_BASE, type TestMachine, runUntilHalt } from '../testEnv.ts';
import type { DiffCase } from './generator.ts';
import { CODE_ADDR, GS_BASE, MEM_ADDR, MEM_SIZE } from './layout.ts';
import type { CaseCode, CaseResult } from './native.ts';

/** The stack exceptions are delivered on (IST1), away from the buffer and the test env's stacks. */
const IST1_TOP = 0x80000;
const RAM_SIZE = 4 * 1024 * 1024;
const MAX_INSNS = 10_000;

export interface VcpuRunner {
  run(index: number, c: DiffCase): CaseResult & { message?: string };
}

/** Loads every case's code at the address it was linked at natively, each followed by HLT. */
export function createVcpuRunner(code: readonly CaseCode[]): VcpuRunner {
  const lo = code.reduce((m, c) => Math.min(m, c.addr), Infinity);
  const hi = code.reduce((m, c) => Math.max(m, c.addr + c.bytes.length + 1), 0);
  if (lo < CODE_ADDR || hi > MEM_ADDR - 0x1000) throw new Error(`differential: case code [0x${lo.toString(16)}, 0x${hi.toString(16)}) is outside the code area`);
  const blob = new Uint8Array(hi - lo).fill(0xf4); // HLT after (and between) cases
  for (const c of code) blob.set(c.bytes, c.addr - lo);
  const m: TestMachine = createTestMachine({ code: blob, codeAddr: lo, ramSize: RAM_SIZE });
  const { vcpu, ram } = m;
  for (let v = 0; v < 32; v++) ram.bytes[IDT_BASE + v * 16 + 4] = 1; // exception gates: IST1
  ram.view.setUint32(TSS_BASE + 0x24, IST1_TOP, true);
  ram.view.setUint32(TSS_BASE + 0x28, 0, true);
  // Read through a function: TypeScript would narrow the field to null after the reset below.
  const lastText = (): string => vcpu.lastException?.text ?? '';
  const cs = vcpu.cs;
  const ss = vcpu.ss;

  return {
    run(index, c) {
      const { addr: start, bytes } = code[index] as CaseCode;
      const end = start + bytes.length;
      ram.bytes.set(c.mem, MEM_ADDR);
      vcpu.clearStop();
      vcpu.lastException = null;
      vcpu.cs = cs;
      vcpu.ss = ss;
      c.gpr.forEach((v, i) => vcpu.setGpr(i, v));
      vcpu.setRflags(c.rflags);
      vcpu.gsBase = GS_BASE;
      vcpu.rip = start;
      const r = runUntilHalt(vcpu, MAX_INSNS);
      const gpr = Array.from({ length: 16 }, (_, i) => vcpu.getGpr(i));
      const mem = ram.bytes.slice(MEM_ADDR, MEM_ADDR + MEM_SIZE);
      const base = { gpr, mem, rflags: vcpu.getRflags(), faultOffset: 0, detail: 0 };
      if (r.exit.reason === 'hlt' && vcpu.rip === end) return { ...base, outcome: 'ok' };
      if (r.exit.reason === 'hlt' && vcpu.rip >= HANDLER_BASE && vcpu.rip < HANDLER_BASE + 256 * 16) {
        // Exception frame (no error code for #DE): RIP, CS, RFLAGS, RSP, SS (SDM Vol. 3A §6.14.2).
        const vector = (vcpu.rip - HANDLER_BASE) >> 4;
        const sp = Number(vcpu.getGpr(4));
        const hasErr = [8, 10, 11, 12, 13, 14, 17].includes(vector) ? 8 : 0;
        const frame = (k: number): bigint => ram.view.getBigUint64(sp + hasErr + 8 * k, true);
        gpr[4] = frame(3);
        return {
          ...base,
          outcome: 'exception',
          detail: vector,
          faultOffset: Number(frame(0)) - start,
          rflags: Number(frame(2)),
          message: lastText(),
        };
      }
      const why = r.exit.reason === 'stop' ? `${r.exit.stop?.reason}: ${r.exit.stop?.message}` : `exit ${r.exit.reason} at rip 0x${vcpu.rip.toString(16)}`;
      return { ...base, outcome: 'fault', detail: -1, faultOffset: vcpu.rip - start, message: why };
    },
  };
}
