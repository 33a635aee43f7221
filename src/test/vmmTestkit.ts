/**
 * Test support for the VMM (imported by *.test.ts only): a fake vCPU with the slow-path
 * accessors of the Vcpu contract, and a small guest on the real src/core/mem (RAM, EPT, guest
 * page tables) with IORAM as its MMIO device. Exits are produced the way the vCPU would:
 * fault-like, RIP at the instruction, gla/gpa of the access.
 */
import type { AccessKind } from '../core/events';
import { IoRam, IORAM_BASE } from '../core/devices/ioram';
import {
  CR0_PG, CR0_WP, CR4_PAE, EFER_LMA, EFER_LME, Ept, GuestRam, PageTableBuilder, gla2gpa,
  mapRamIdentity, newWalkResult, type GuestPageSize,
} from '../core/mem';
import type { SegName } from '../core/events';
import { PageTracker } from '../core/mem/pageTracker';
import type { ICachePages } from '../core/vmm/icache';
import type { VcpuPort, VmContext, VmExitPort } from '../core/vmm/ports';
import { mmioRouter } from '../core/vmm/ports';

export { IORAM_BASE };

export class FakeVcpu implements VcpuPort {
  rip = 0;
  cr0 = (CR0_PG | CR0_WP | 1) >>> 0;
  cr3 = 0;
  cr4 = CR4_PAE;
  efer = EFER_LME | EFER_LMA;
  cpl = 0;
  idtBase = 0;
  idtLimit = 0xfff;
  tssBase = 0;
  readonly gpr: bigint[] = new Array<bigint>(16).fill(0n);
  rflags = 0x2;
  readonly segBases: Record<SegName, number> = { es: 0, cs: 0, ss: 0, ds: 0, fs: 0, gs: 0 };
  readonly injected: { vector: number; errorCode?: number; cr2?: number }[] = [];
  constructor(readonly id = 0) {}
  getGpr(i: number): bigint {
    return this.gpr[i];
  }
  setGpr(i: number, v: bigint): void {
    this.gpr[i] = BigInt.asUintN(64, v);
  }
  getRflags(): number {
    return this.rflags;
  }
  setRflags(v: number): void {
    this.rflags = v;
  }
  segBase(seg: SegName): number {
    return this.segBases[seg];
  }
  injectException(vector: number, errorCode?: number, cr2?: number): void {
    this.injected.push({ vector, errorCode, cr2 });
  }
}

export const RAM_SIZE = 8 * 1024 * 1024;
export const CODE = 0x100000;
export const STACK_TOP = 0x1f0000;
/** Guest page tables of the default address space live here. */
export const PT_REGION = [0x10000, 0x40000] as const;

/** A VM: RAM, EPT, identity-mapped guest tables, IORAM at IORAM_BASE. */
export class TestGuest {
  readonly ram = new GuestRam(RAM_SIZE);
  readonly ept: Ept;
  readonly ioram = new IoRam();
  readonly pt: PageTableBuilder;
  readonly vm: VmContext;
  /** The VM's page tracker; its code dependents are `trackCode` ranges (no vCPU here). */
  readonly pages: ICachePages;
  /** First bytes (gpa) of the code ranges the tracker invalidated, in order. */
  readonly codeInvalidations: number[] = [];
  private nextRegion = 0x40000;

  constructor(id = 0) {
    this.ept = mapRamIdentity(this.ram, [IORAM_BASE, IORAM_BASE + 4096]);
    this.pt = this.newAddressSpace(true);
    const router = mmioRouter([], [this.ioram]);
    this.pages = new PageTracker(this.ept);
    this.pages.setCodeOwner({
      invalidate: (c) => { this.codeInvalidations.push(c.ranges[0]!); this.pages.untrackCode(c); },
    });
    this.vm = { id, ram: this.ram, ept: this.ept, pages: this.pages, mmio: router };
  }

  /** Translated code on bytes [gpa, gpa + size) (within one page), as a vCPU block would be. */
  trackCode(gpa: number, size: number): void {
    this.pages.trackCode({ ranges: [gpa, gpa + size], pages: [Math.floor(gpa / 4096)] });
  }

  /**
   * A new set of guest tables (its own 64 KiB region): identity map of RAM when `identity`
   * (4 KiB pages around CODE and the stack), IORAM always.
   */
  newAddressSpace(identity: boolean): PageTableBuilder {
    const start = identity ? PT_REGION[0] : this.nextRegion;
    const end = identity ? PT_REGION[1] : (this.nextRegion += 0x10000);
    const pt = new PageTableBuilder(this.ram, start, end);
    if (identity) {
      pt.identityMap({
        limit: RAM_SIZE,
        small: [{ start: CODE, end: CODE + 0x20000 }, { start: STACK_TOP - 0x10000, end: STACK_TOP }],
        uncached: [IORAM_BASE, IORAM_BASE + 4096],
      });
    } else {
      pt.map(IORAM_BASE, IORAM_BASE, 4096);
      pt.map(IORAM_BASE + 4096, IORAM_BASE + 4096, 4096);
    }
    return pt;
  }

  vcpu(id = 0, pt: PageTableBuilder = this.pt): FakeVcpu {
    const v = new FakeVcpu(id);
    v.cr3 = pt.cr3;
    v.rip = CODE;
    v.gpr[4] = BigInt(STACK_TOP);
    return v;
  }

  /** Write bytes at a guest-physical address. */
  poke(gpa: number, bytes: readonly number[]): void {
    this.ram.bytes.set(bytes, gpa);
  }

  /** Guest-physical address of `gla` under `vcpu` (test oracle: the real walk, no recorder). */
  translate(vcpu: FakeVcpu, gla: number, access: AccessKind = 'read'): number {
    const out = newWalkResult();
    gla2gpa(this.ram, this.ept, vcpu, gla, access, vcpu.cpl, out, null);
    return out.gpa;
  }

  /** The 'mmio' exit the vCPU would take at its RIP for an access at `gla`. */
  mmioExit(vcpu: FakeVcpu, gla: number, access: AccessKind = 'write'): VmExitPort {
    return {
      reason: 'mmio', rip: vcpu.rip, insnLength: 0, gla, gpa: this.translate(vcpu, gla, access),
      access, insnBytes: new Uint8Array(15), insnByteCount: 0,
    };
  }

  /** The 'ept-violation' exit of a guest write at guest-physical `gpa`. */
  wpExit(vcpu: FakeVcpu, gpa: number, gla = gpa): VmExitPort {
    return {
      reason: 'ept-violation', rip: vcpu.rip, insnLength: 0, gla, gpa, access: 'write',
      insnBytes: new Uint8Array(15), insnByteCount: 0,
    };
  }

  map(pt: PageTableBuilder, gla: number, gpa: number, size: GuestPageSize = 4096): void {
    pt.map(gla, gpa, size);
  }
}
