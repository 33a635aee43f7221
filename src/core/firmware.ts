/**
 * The firmware: what a VM's memory holds before the program's first instruction
 * (DESIGN.md "Guest environment"). It identity-maps guest RAM with 4-level page tables (4 KiB
 * pages over the low 8 MiB where code, data and stacks live, 2 MiB pages above), maps the LAPIC
 * and IORAM pages uncached, installs a GDT and an IDT whose gate N points at the program's
 * `isr_N` label, and maps RAM 1:1 in the EPT with the MMIO pages left unmapped so that
 * every access to them exits.
 */
import { FIRMWARE_LAYOUT, IORAM_BASE, IORAM_SIZE, LAPIC_BASE, SELECTORS } from './guestAbi';
import {
  Ept, EPT_RWX, GuestRam, mapRamIdentity, PAGE_2M, PAGE_4K, PageTableBuilder, PTE_P, PTE_PCD, PTE_PWT, PTE_RW, PTE_US,
} from './mem';

/** User-accessible so a program can drop to CPL 3 (syscall scenario) without its own tables. */
const RAM_LEAF = PTE_P | PTE_RW | PTE_US;
const MMIO_LEAF = RAM_LEAF | PTE_PWT | PTE_PCD;

/** The low region mapped with 4 KiB pages, so code/data/stack walks are full 24-reference walks. */
const SMALL_PAGE_REGION = 8 * 1024 * 1024;

export interface FirmwareState {
  cr3: number;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  /** Initial RSP per vCPU index. */
  stackTops: number[];
  /** Guest-physical pages holding the firmware's page tables. */
  pageTablePages: number[];
  /** Vectors whose gate points at an isr_N label. */
  handledVectors: number[];
}

function buildPageTables(ram: GuestRam): { cr3: number; pages: number[] } {
  const tables = new PageTableBuilder(ram, FIRMWARE_LAYOUT.pageTables, FIRMWARE_LAYOUT.pageTablesEnd);
  // RAM: 4 KiB pages in the low region (page 0 left unmapped to catch null pointers), 2 MiB above.
  for (let addr = 0x1000; addr < Math.min(ram.size, SMALL_PAGE_REGION); addr += PAGE_4K) tables.map(addr, addr, PAGE_4K, RAM_LEAF);
  for (let addr = SMALL_PAGE_REGION; addr < ram.size; addr += PAGE_2M) tables.map(addr, addr, PAGE_2M, RAM_LEAF);
  // MMIO: the LAPIC page and the two IORAM pages, uncached (PCD | PWT), 4 KiB each.
  for (const page of [LAPIC_BASE, IORAM_BASE, IORAM_BASE + 0x1000]) tables.map(page, page, PAGE_4K, MMIO_LEAF);
  return { cr3: tables.cr3, pages: tables.tablePages };
}

/** 64-bit GDT: null, kernel code, kernel data, user data, user code (SYSRET order, SDM §5.8.8). */
function buildGdt(ram: GuestRam): { base: number; limit: number } {
  const base = FIRMWARE_LAYOUT.gdt;
  const descriptors = [0n, 0x0020_9a00_0000_0000n, 0x0000_9200_0000_0000n, 0x0000_f200_0000_0000n, 0x0020_fa00_0000_0000n];
  descriptors.forEach((d, i) => ram.write64(base + i * 8, d));
  return { base, limit: descriptors.length * 8 - 1 };
}

/**
 * 64-bit interrupt gates (SDM Vol. 3A §6.14.1, Figure 6-8) for every `isr_N` symbol; other
 * vectors stay not-present, so an unhandled exception escalates to #DF and a triple fault.
 */
function buildIdt(ram: GuestRam, symbols: ReadonlyMap<string, bigint>): { base: number; limit: number; vectors: number[] } {
  const base = FIRMWARE_LAYOUT.idt;
  ram.fill(base, 256 * 16, 0);
  const vectors: number[] = [];
  for (const [name, value] of symbols) {
    const m = /^isr_(\d+)$/.exec(name);
    if (!m) continue;
    const vector = Number(m[1]);
    if (vector > 255) continue;
    const offset = value & 0xffff_ffff_ffff_ffffn;
    // DPL 3 on the breakpoint and overflow vectors so `int3`/`into`-style software use works from user mode.
    const dpl = vector === 3 || vector === 4 ? 3n : 0n;
    const low = (offset & 0xffffn) | (BigInt(SELECTORS.kernelCode) << 16n) | (0x8en << 40n) | (dpl << 45n) |
      (((offset >> 16n) & 0xffffn) << 48n);
    ram.write64(base + vector * 16, low);
    ram.write64(base + vector * 16 + 8, (offset >> 32n) & 0xffff_ffffn);
    vectors.push(vector);
  }
  return { base, limit: 256 * 16 - 1, vectors: vectors.sort((a, b) => a - b) };
}

/** Lay out the firmware in `ram` for `vcpuCount` vCPUs. */
export function installFirmware(ram: GuestRam, symbols: ReadonlyMap<string, bigint>, vcpuCount: number): FirmwareState {
  const tables = buildPageTables(ram);
  const gdtr = buildGdt(ram);
  const idt = buildIdt(ram, symbols);
  const stackTops = Array.from({ length: vcpuCount }, (_, i) => FIRMWARE_LAYOUT.stackTop - i * FIRMWARE_LAYOUT.stackSize);
  return {
    cr3: tables.cr3,
    gdtr,
    idtr: { base: idt.base, limit: idt.limit },
    stackTops,
    pageTablePages: tables.pages,
    handledVectors: idt.vectors,
  };
}

/**
 * The VM's EPT: RAM 1:1 with 4 KiB leaves; LAPIC and IORAM pages unmapped (every access
 * exits). With `largePages` (`; exitscope: ept=2m`) RAM from 2 MiB up is mapped with 2 MiB
 * leaves, so an EPT walk there reads 3 entries instead of 4; the low 2 MiB (firmware tables,
 * stacks, code at 0x100000) keeps 4 KiB leaves. Write-protecting a page splits its leaf.
 */
export function buildEpt(ram: GuestRam, opts: { largePages?: boolean } = {}): Ept {
  const mmio = [LAPIC_BASE];
  for (let off = 0; off < IORAM_SIZE; off += 0x1000) mmio.push(IORAM_BASE + off);
  const ept = mapRamIdentity(ram, mmio);
  if (opts.largePages) {
    for (let gpa = PAGE_2M; gpa + PAGE_2M <= ram.size; gpa += PAGE_2M) ept.map(gpa, gpa, PAGE_2M, EPT_RWX);
  }
  return ept;
}
