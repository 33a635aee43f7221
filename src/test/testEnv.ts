/**
 * A ready-to-run vCPU for tests: identity-mapped RAM (4 KiB pages), firmware-like page
 * tables, a GDT/TSS, and an IDT whose handlers are `hlt` (one 16-byte stub per vector at
 * HANDLER_BASE + vector * 16, so the halting RIP tells which vector fired).
 *
 * Layout (guest-physical = guest-linear):
 *   0x1000 PML4, 0x2000 PDPT (low), 0x3000 PD (low), 0x4000.. page tables for RAM,
 *   0x40000 PDPT/PD/PT for the MMIO pages (LAPIC_BASE, IORAM_BASE),
 *   IDT_BASE 0x50000, HANDLER_BASE 0x51000, GDT_BASE 0x52000, TSS_BASE 0x53000,
 *   stack [STACK_TOP - 0x10000, STACK_TOP), RSP0 (TSS) = KSTACK_TOP, code at CODE_ADDR.
 */
import { type Ept, GuestRam, mapRamIdentity } from '../core/mem';
import { PageTracker } from '../core/mem/pageTracker';
import { CodeCache, Vcpu } from '../core/cpu/vcpu';
import type { VmExit } from '../core/cpu/vmexit';

export const CODE_ADDR = 0x100000;
export const STACK_TOP = 0x90000;
export const KSTACK_TOP = 0xa0000;
export const IDT_BASE = 0x50000;
export const HANDLER_BASE = 0x51000;
export const GDT_BASE = 0x52000;
export const TSS_BASE = 0x53000;
export const LAPIC_BASE = 0xfee00000;
export const IORAM_BASE = 0xff000000;
export const PML4_ADDR = 0x1000;
/** GDT selectors: kernel code/data, user data/code (STAR-compatible), TSS. */
export const SEL = { KCODE: 0x08, KDATA: 0x10, UDATA: 0x1b, UCODE: 0x23, TSS: 0x28 } as const;

export interface TestVcpuOptions {
  code: Uint8Array;
  codeAddr?: number;
  data?: { addr: number; bytes: Uint8Array }[];
  ramSize?: number;
  /** The code cache's bound (CodeCache maxInsns). */
  maxCachedInsns?: number;
}

export interface TestMachine {
  vcpu: Vcpu;
  ram: GuestRam;
  ept: Ept;
  codeCache: CodeCache;
}

const P = 1, RW = 2, US = 4, PS = 0x80;

/** Write a 64-bit little-endian value into RAM. */
function put64(ram: GuestRam, addr: number, v: number): void {
  ram.view.setUint32(addr, v >>> 0, true);
  ram.view.setUint32(addr + 4, Math.floor(v / 4294967296) >>> 0, true);
}

/** Build page tables identity-mapping [0, ramSize) with 4 KiB user-accessible pages + MMIO pages. */
export function buildIdentityMap(ram: GuestRam, ramSize: number): number {
  const pml4 = PML4_ADDR, pdpt = 0x2000, pd = 0x3000, pt0 = 0x4000;
  const flags = P | RW | US;
  put64(ram, pml4, pdpt | flags);
  const ptCount = Math.ceil(ramSize / 0x200000);
  const pdCount = Math.ceil(ptCount / 512);
  if (pdCount > 1 || pt0 + ptCount * 4096 > 0x40000) throw new Error('testEnv: RAM too large for the firmware tables (max 120 MiB)');
  put64(ram, pdpt, pd | flags);
  for (let t = 0; t < ptCount; t++) {
    const pt = pt0 + t * 4096;
    put64(ram, pd + t * 8, pt | flags);
    for (let e = 0; e < 512; e++) {
      const pa = t * 0x200000 + e * 4096;
      if (pa >= ramSize) break;
      put64(ram, pt + e * 8, pa | flags);
    }
  }
  // MMIO: 0xC0000000-0xFFFFFFFF via PDPT[3] -> PD at 0x40000; 2 MiB-aligned PTs for LAPIC and IORAM.
  const pdHigh = 0x40000, ptLapic = 0x41000, ptIoram = 0x42000;
  put64(ram, pdpt + 3 * 8, pdHigh | flags);
  put64(ram, pdHigh + ((LAPIC_BASE >>> 21) & 511) * 8, ptLapic | flags);
  put64(ram, ptLapic + ((LAPIC_BASE >>> 12) & 511) * 8, (LAPIC_BASE | P | RW | 0x10 /* PCD */) >>> 0);
  put64(ram, pdHigh + ((IORAM_BASE >>> 21) & 511) * 8, ptIoram | flags);
  put64(ram, ptIoram + ((IORAM_BASE >>> 12) & 511) * 8, (IORAM_BASE | P | RW | 0x10) >>> 0);
  put64(ram, ptIoram + (((IORAM_BASE >>> 12) + 1) & 511) * 8, ((IORAM_BASE + 0x1000) | P | RW | 0x10) >>> 0);
  void PS;
  return pml4;
}

/** Create a vCPU at CPL 0 in long mode with code at `codeAddr` (default CODE_ADDR). */
export function createTestMachine(opts: TestVcpuOptions): TestMachine {
  const ramSize = opts.ramSize ?? 64 * 1024 * 1024;
  const ram = new GuestRam(ramSize);
  const ept = mapRamIdentity(ram, [LAPIC_BASE, IORAM_BASE, IORAM_BASE + 0x1000]);
  const cr3 = buildIdentityMap(ram, ramSize);
  // IDT: 256 interrupt gates -> HANDLER_BASE + v*16, each stub `hlt; jmp $-1`.
  for (let v = 0; v < 256; v++) {
    const h = HANDLER_BASE + v * 16;
    ram.bytes.set([0xf4, 0xeb, 0xfd], h);
    const g = IDT_BASE + v * 16;
    ram.view.setUint16(g, h & 0xffff, true);
    ram.view.setUint16(g + 2, SEL.KCODE, true);
    ram.bytes[g + 4] = 0; // IST
    ram.bytes[g + 5] = 0x8e | (v === 3 || v === 4 || v === 0x80 ? 0x60 : 0); // P, DPL, 64-bit interrupt gate
    ram.view.setUint16(g + 6, (h >>> 16) & 0xffff, true);
    ram.view.setUint32(g + 8, 0, true);
  }
  // GDT: null, kcode (L), kdata, udata (DPL3), ucode (L, DPL3), TSS (16 bytes).
  const gdt: Array<[number, number]> = [
    [0, 0], [0x0000ffff, 0x00af9b00], [0x0000ffff, 0x00cf9300], [0x0000ffff, 0x00cff300], [0x0000ffff, 0x00affb00],
  ];
  gdt.forEach(([lo, hi], i) => { ram.view.setUint32(GDT_BASE + i * 8, lo, true); ram.view.setUint32(GDT_BASE + i * 8 + 4, hi, true); });
  const tssLimit = 0x67;
  ram.view.setUint32(GDT_BASE + 0x28, ((TSS_BASE & 0xffff) << 16) | tssLimit, true);
  ram.view.setUint32(GDT_BASE + 0x2c, ((TSS_BASE >>> 16) & 0xff) | 0x8900 | (TSS_BASE & 0xff000000), true);
  ram.view.setUint32(GDT_BASE + 0x30, 0, true);
  put64(ram, TSS_BASE + 4, KSTACK_TOP); // RSP0
  const codeAddr = opts.codeAddr ?? CODE_ADDR;
  ram.bytes.set(opts.code, codeAddr);
  for (const d of opts.data ?? []) ram.bytes.set(d.bytes, d.addr);

  const codeCache = new CodeCache(new PageTracker(ept), { maxInsns: opts.maxCachedInsns });
  const vcpu = new Vcpu({ ram, ept, codeCache, vcpuId: 0 });
  vcpu.cr3 = cr3;
  vcpu.idtBase = IDT_BASE;
  vcpu.idtLimit = 256 * 16 - 1;
  vcpu.gdtBase = GDT_BASE;
  vcpu.gdtLimit = 0x37;
  vcpu.tssBase = TSS_BASE;
  vcpu.trSel = SEL.TSS;
  vcpu.star = (0x10n << 48n) | (0x08n << 32n);
  vcpu.rip = codeAddr;
  vcpu.setGpr(4, BigInt(STACK_TOP));
  return { vcpu, ram, ept, codeCache };
}

/** createTestMachine(...).vcpu */
export function createTestVcpu(opts: TestVcpuOptions): Vcpu {
  return createTestMachine(opts).vcpu;
}

export interface HaltResult {
  /** The exit that ended the run ('hlt', 'stop', 'budget', or an exit nobody handled: 'mmio'...). */
  exit: VmExit;
  /** Bytes written to port 0xE9. */
  console: string;
  /** Exits handled along the way, by reason. */
  exits: Record<string, number>;
}

/**
 * Run until `hlt` (RIP is left pointing at the hlt), a stop, the budget, or an exit this
 * minimal VMM does not handle (mmio, ept-violation, vmcall...). Handles: cpuid (vCPU's own
 * leaves), out 0xE9 (console), other out (ignored), in (all ones), rdmsr/wrmsr of the
 * intercepted MSRs (APIC_BASE = 0xFEE00900, others read 0 / ignore writes).
 */
export function runUntilHalt(vcpu: Vcpu, maxInsns: number): HaltResult {
  let console = '';
  const exits: Record<string, number> = {};
  const startRetired = vcpu.retired;
  for (;;) {
    const left = maxInsns - (vcpu.retired - startRetired);
    const e = vcpu.run(Math.max(0, left));
    if (e.reason === 'budget' || e.reason === 'stop' || e.reason === 'hlt') return { exit: e, console, exits };
    exits[e.reason] = (exits[e.reason] ?? 0) + 1;
    switch (e.reason) {
      case 'cpuid':
        vcpu.emulateCpuid();
        break;
      case 'io':
        if (!e.ioIn && e.port === 0xe9) console += String.fromCharCode(e.ioValue & 0xff);
        if (e.ioString) {
          // INS/OUTS: the vCPU completes the element and moves RIP itself.
          vcpu.completeStringIo(e, e.ioIn ? 2 ** (e.ioSize * 8) - 1 : 0);
          continue;
        }
        if (e.ioIn) vcpu.writeReg(0, e.ioSize, (1n << BigInt(e.ioSize * 8)) - 1n);
        break;
      case 'rdmsr': {
        const v = e.msr === 0x1b ? 0xfee00900n : 0n;
        vcpu.writeReg(0, 4, v & 0xffffffffn);
        vcpu.writeReg(2, 4, v >> 32n);
        break;
      }
      case 'wrmsr':
        break;
      default:
        return { exit: e, console, exits };
    }
    vcpu.rip += e.insnLength;
  }
}
