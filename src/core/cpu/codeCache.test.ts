/**
 * The code cache under guests that write code pages: data beside code stays on translated
 * blocks, self-modifying code retranslates only what it patched, and a guest running through
 * fresh memory keeps the cache bounded. Measured by counts (translations, cache size), never
 * by time.
 */
import { describe, expect, it } from 'vitest';
import { asmMachine } from '../../test/asmTest';
import { createTestMachine, runUntilHalt } from '../../test/testEnv';

const run = (src: string, max = 2_000_000) => {
  const m = asmMachine(src);
  const r = runUntilHalt(m.vcpu, max);
  return { ...m, r };
};

describe('code pages written by the guest', () => {
  it('a counter on the code page of its loop: 20,000 stores, no retranslation of the loop', () => {
    const { r, vcpu, codeCache } = run(`
      mov ecx, 20000
    l:
      inc qword [rel counter]
      dec ecx
      jnz l
      mov rax, [rel counter]
      hlt
    counter: dq 0`);
    expect(r.exit.reason).toBe('hlt');
    expect(vcpu.getGpr(0)).toBe(20000n);
    // The stores hit the page of the loop but not its bytes: nothing is invalidated.
    expect(codeCache.invalidated).toBe(0);
    expect(codeCache.translated).toBeLessThanOrEqual(4);
  });

  it('a page written before it held code is protected once it does: a later patch of that code runs', () => {
    // The first store caches the data page's write right in the TLB; the call then translates
    // code there, which must turn that right into a reporting one (or the patch would be lost).
    const { r, vcpu, codeCache } = run(`
      mov byte [rel scratch], 1
      call f
      mov ebx, eax
      mov dword [rel f + 1], 7
      call f
      hlt
      align 4096
    f:
      mov eax, 5
      ret
    scratch: db 0`);
    expect(r.exit.reason).toBe('hlt');
    expect(vcpu.getGpr(3)).toBe(5n);
    expect(vcpu.getGpr(0)).toBe(7n);
    expect(codeCache.invalidated).toBe(1);
  });

  it('a loop that patches its own immediate: one retranslation per patch, a bounded cache', () => {
    const { r, vcpu, codeCache } = run(`
      mov ecx, 500
      xor ebx, ebx
    l:
      mov [rel patch + 1], ecx
    patch:
      mov eax, 0
      add rbx, rax
      dec ecx
      jnz l
      hlt`);
    expect(r.exit.reason).toBe('hlt');
    // Each iteration runs the immediate its store just wrote: sum of 500..1.
    expect(vcpu.getGpr(3)).toBe(501n * 250n);
    // Per iteration: the store invalidates the block it runs in, the rest of the iteration is
    // translated again, then the loop head: at most 3 translations per patch.
    expect(codeCache.invalidated).toBeGreaterThanOrEqual(500);
    expect(codeCache.translated).toBeLessThanOrEqual(3 * 500 + 4);
    // Invalidated blocks leave the cache, its page lists and the jump caches.
    expect(codeCache.size).toBeLessThanOrEqual(4);
    expect(codeCache.pages.trackedPages).toBeLessThanOrEqual(2);
  });

  it('a store into the block that is running ends the block after it (the new bytes run)', () => {
    const { r, vcpu } = run(`
      mov byte [rel next + 1], 7
    next:
      mov al, 1
      hlt`);
    expect(r.exit.reason).toBe('hlt');
    expect(vcpu.getGpr(0) & 0xffn).toBe(7n);
  });

  it('rep stosb over a code page invalidates exactly the blocks it overwrites', () => {
    const { r, vcpu, codeCache } = run(`
      lea rdi, [rel victim]
      mov al, 0x90 ; nop
      mov ecx, 5
      rep stosb
      call victim
      call other
      hlt
    victim:
      mov eax, 1
      ret
    other:
      mov ebx, 2
      ret`);
    expect(r.exit.reason).toBe('hlt');
    // victim's `mov eax, 1` (5 bytes) became five nops: eax keeps 0x90 from al.
    expect(vcpu.getGpr(0) & 0xffn).toBe(0x90n);
    expect(vcpu.getGpr(3)).toBe(2n);
    // The first block followed `call victim` into victim's bytes (and on into `other`): the
    // store invalidates that block, which ends after rep stosb, and only it.
    expect(codeCache.invalidated).toBe(1);
  });
});

describe('a bounded code cache', () => {
  it('a guest running through zeroed memory: the cache is flushed at its bound, never above it', () => {
    // mov eax, 0x200000; mov ebx, 0x400000; jmp rbx
    const code = new Uint8Array([0xb8, 0, 0, 0x20, 0, 0xbb, 0, 0, 0x40, 0, 0xff, 0xe3]);
    const { vcpu, codeCache } = createTestMachine({ code, maxCachedInsns: 256 });
    let maxInsns = 0;
    for (let i = 0; i < 16; i++) {
      vcpu.run(250);
      maxInsns = Math.max(maxInsns, codeCache.insns);
    }
    expect(vcpu.retired).toBe(4_000);
    expect(vcpu.rip).toBeGreaterThan(0x400000 + 2 * 3_900); // `add [rax], al` is 2 bytes
    expect(maxInsns).toBeLessThanOrEqual(256);
    expect(codeCache.flushes).toBeGreaterThanOrEqual(4_000 / 256 - 1);
    expect(codeCache.pages.trackedPages).toBeLessThanOrEqual(3);
  });
});
