/**
 * String I/O (SDM Vol. 2 INS/OUTS, REP): one 'io' exit per element, fault-like; the VMM
 * completes each element with `completeStringIo`.
 */
import { describe, expect, it } from 'vitest';
import { asmMachine } from '../../test/asmTest';
import { HANDLER_BASE, runUntilHalt } from '../../test/testEnv';

describe('INS/OUTS exit per element and are completed by the VMM', () => {
  it('outsb exits with port, size, direction and the byte read from [rsi], and has no effect until completed', () => {
    const m = asmMachine('mov rsi, 0x200000\nmov byte [rsi], 0x41\nmov dx, 0xe9\nouts dx, byte [rsi]\nhlt');
    const v = m.vcpu;
    const e = v.run(100);
    expect([e.reason, e.port, e.ioSize, e.ioIn, e.ioValue, e.ioString, e.ioRep, e.ioGla]).toEqual(['io', 0xe9, 1, false, 0x41, true, false, 0x200000]);
    expect(v.rip).toBe(e.rip);
    expect(v.getGpr(6)).toBe(0x200000n);
    expect(v.completeStringIo(e)).toBe(true);
    expect(v.getGpr(6)).toBe(0x200001n);
    expect(v.rip).toBe(e.rip + e.insnLength);
    expect(v.run(100).reason).toBe('hlt');
  });

  it('rep outsb writes the string, one exit per byte; RIP advances only when RCX reaches 0', () => {
    const m = asmMachine('mov rsi, msg\nmov ecx, 5\nmov dx, 0xe9\nrep outsb\nhlt\nmsg: db "hello"');
    const r = runUntilHalt(m.vcpu, 1000);
    expect(r.exit.reason).toBe('hlt');
    expect(r.console).toBe('hello');
    expect(r.exits.io).toBe(5);
    expect(m.vcpu.getGpr(1)).toBe(0n);
  });

  it('rep insw/insd store what the port returned at [rdi] (all ones from an empty port) and step RDI, down with DF', () => {
    const m = asmMachine('mov rdi, 0x200000\nmov ecx, 3\nmov dx, 0x80\nrep insw\nmov rdi, 0x200104\nmov ecx, 2\nstd\nrep insd\ncld\nhlt');
    const { ram, vcpu } = m;
    ram.bytes.fill(0, 0x200000, 0x200200);
    const r = runUntilHalt(vcpu, 1000);
    expect(r.exits.io).toBe(5);
    expect([...ram.bytes.subarray(0x200000, 0x200008)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]);
    expect(ram.view.getUint32(0x200100, true)).toBe(0xffffffff);
    expect(ram.view.getUint32(0x200104, true)).toBe(0xffffffff);
    expect(ram.view.getUint32(0x200108, true)).toBe(0);
    expect(vcpu.getGpr(7)).toBe(0x2000fcn);
  });

  it('rep with RCX = 0 does nothing and does not exit; 67 counts in ECX', () => {
    const m = asmMachine('xor ecx, ecx\nmov dx, 0xe9\nrep outsb\nmov rcx, 0x100000002\nmov esi, msg\ndb 0x67\nrep outsb\nhlt\nmsg: db "ok"');
    const r = runUntilHalt(m.vcpu, 1000);
    expect(r.console).toBe('ok');
    expect(m.vcpu.getGpr(1)).toBe(0n); // ECX counted to 0, the upper half zeroed by 32-bit writes
  });

  it('INS raises #PF for an unmapped [rdi] before exiting; CPL > IOPL raises #GP(0)', () => {
    const m = asmMachine('mov rdi, 0x10000000\nmov dx, 0x80\ninsb\nhlt');
    const r = runUntilHalt(m.vcpu, 1000);
    expect(r.exits.io).toBeUndefined();
    expect(m.vcpu.rip).toBe(HANDLER_BASE + 14 * 16);
    const u = asmMachine('mov dx, 0x80\noutsb\nhlt');
    u.vcpu.cs = 0x23; // CPL 3, IOPL 0
    u.vcpu.ss = 0x1b;
    runUntilHalt(u.vcpu, 1000);
    expect(u.vcpu.lastException?.vector).toBe(13);
  });
});
