import { describe, expect, it } from 'vitest';
import { PREDEFINED_SYMBOLS } from '../../core/guestAbi';
import { completionWords, lineMnemonic, mmioBaseRegisters, stripComment, SYMBOLS, symbolHover, vmmEffect } from './asmLanguage';

describe('asm language helpers', () => {
  it('finds the mnemonic after labels and prefixes', () => {
    expect(lineMnemonic('.loop:  mov eax, [rbx]')).toBe('mov');
    expect(lineMnemonic('   rep stosq ; fill')).toBe('stosq');
    expect(lineMnemonic('; only a comment')).toBeNull();
    expect(stripComment("mov al, ';' ; x")).toBe("mov al, ';' ");
  });

  it('says that a memory operand on LAPIC_BASE exits to instruction emulation', () => {
    expect(vmmEffect('  mov eax, [LAPIC_BASE + LAPIC_ID]')).toMatch(/exits: EPT violation → instruction emulation/);
    expect(vmmEffect('  mov dword [0xFEE00080], 0')).toMatch(/local APIC/);
    expect(vmmEffect('  mov [IORAM_BASE+8], rax')).toMatch(/IORAM/);
    expect(vmmEffect('  out DEBUG_PORT, al')).toMatch(/I\/O/);
    expect(vmmEffect('  add eax, 1')).toBeNull();
    expect(vmmEffect('  lea rax, [LAPIC_BASE + 0x80]')).toBeNull();
  });

  it('follows a register loaded with an MMIO base', () => {
    const regs = mmioBaseRegisters('_start:\n    mov rbx, LAPIC_BASE\n    mov rsi, 0x1000\nx:  mov r12, IORAM_BASE\n');
    expect([...regs].sort()).toEqual(['r12', 'rbx']);
    expect(vmmEffect('    mov dword [rbx + LAPIC_TPR], 0x10', regs)).toMatch(/exits: EPT violation →/);
    expect(vmmEffect('    mov eax, [rsi]', regs)).not.toMatch(/exits: EPT violation →/);
  });

  it('documents the LAPIC registers and the predefined symbols', () => {
    expect(symbolHover('LAPIC_TPR')).toMatch(/0xFEE00080/);
    expect(symbolHover('lapic_eoi')).toMatch(/End Of Interrupt/);
    expect(symbolHover('rax')).toBeNull();
    const labels = completionWords().map((w) => w.label);
    for (const s of ['LAPIC_BASE', 'IORAM_BASE', 'LAPIC_TIMER_DCR', 'DEBUG_PORT', 'MSR_LSTAR', 'mov', 'r15d']) expect(labels).toContain(s);
  });

  it('lists exactly the predefined symbols of the guest ABI, with their values', () => {
    expect(SYMBOLS.map((s) => [s.name, BigInt(s.value)])).toEqual([...PREDEFINED_SYMBOLS]);
    for (const s of SYMBOLS) expect(s.doc.length, s.name).toBeGreaterThan(10);
  });
});
