/**
 * Where a differential case lives, natively and on the vCPU. The addresses are the same on both
 * sides because registers hold absolute pointers into the buffer.
 */

/**
 * The case's memory buffer. It straddles a 4 KiB page boundary (at offset PAGE_CROSS) so that
 * misaligned accesses there test the vCPU's page-crossing path. Natively the two pages
 * [0x300000, 0x302000) are a section of the harness (.diffmem), linked there; the rest of the
 * non-PIE executable starts at 0x400000.
 */
export const MEM_ADDR = 0x300f00;
export const MEM_SIZE = 0x200;
/** Offset in the buffer of the page boundary 0x301000. */
export const PAGE_CROSS = 0x100;

/** Initial RSP of every case: pushes go down into [0x40, 0x180), pops read [0x180, 0x200). */
export const STACK_OFF = 0x180;
export const INITIAL_RSP = MEM_ADDR + STACK_OFF;
/** How far the stack may move from STACK_OFF while keeping every access inside the buffer. */
export const STACK_MIN_DELTA = -0x140;
export const STACK_MAX_DELTA = 0x78;

/**
 * Where the cases' code is linked natively (section .diffcases) and loaded on the vCPU: the
 * guest contract's code address. The same addresses on both sides make RIP-relative operands,
 * CALL and RET comparable.
 */
export const CODE_ADDR = 0x100000;

/** GS base for GS-relative operands (set with arch_prctl natively, `gsBase` on the vCPU). */
export const GS_BASE = 0x200000;
