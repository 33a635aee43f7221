/**
 * The exit path: what the VMM does on each VM exit, in the order bhyve's vm_handle_inst_emul
 * (sys/amd64/vmm/vmm.c) does it, with every stage charged from the cost model and reported
 * in one ExitEvent:
 *
 *   exit -> [icache lookup] -> walk (gla2gpa of RIP) -> fetch (<= 15 bytes, a second
 *   translation when they cross a page) -> decode (+ verify_gla) -> [icache insert ->
 *   write-protect the entry's pages] -> emulate -> advance RIP
 *
 * Strategies: 'none' (bhyve), 'icache' (the seed: a hit skips walk, fetch and
 * decode), 'decode-assist' (AMD: the bytes come with the exit; no walk, no fetch), 'apicv'
 * (Intel APIC virtualization: most LAPIC accesses never exit, see apicv.ts; what still exits
 * takes the 'none' path, and APIC-write exits need no decode).
 *
 * Failure paths stay apart: a guest fault (#PF on the fetch, #PF/#GP/#SS/#AC during
 * emulation) is injected and the guest resumes (action 'resume', `injected` set); an
 * instruction bhyve's emulator does not handle stops the run (action 'stop', reason
 * 'unsupported'); an emulator or configuration bug stops it with reason 'error'.
 *
 * Hot path: nothing is allocated per exit unless walks are recorded. The returned event is
 * one reused object, valid until the next call: copy it (cloneExitEvent) to keep it.
 */
import {
  chargeCycles, decodeCycles, emulateCycles, exitCycles, fetchCycles, icacheLookupCycles, insertEntryCycles, invalidateCycles, newCostUnits,
  operandCopyCycles, operandWalkCycles, protectPagesCycles, walkCycles,
  type CostModel, type CostUnits,
} from '../cost';
import type { AccessSize } from '../devices/mmio';
import type { AccessKind, EventDelivery, ExitEvent, Stage, StageName, StopInfo, Strategy, WpCause, WpFaultInfo } from '../events';
import { hex, hexBytes } from '../hex';
import { plural } from '../plural';
import { gla2gpa, newWalkResult, type EptWalkFault, type PagingContext, type WalkRecorder, type WalkResult } from '../mem';
import {
  bhyveDecode, computeGla, DECODE_INCOMPLETE, DECODE_MISMATCH, DECODE_OK, DECODE_UNSUPPORTED, VieDecoder,
} from './decode';
import {
  COPY_FAULT, EFAULT, EINVAL, EMUL_OK, IDT_PF, vmm_emulate_instruction, type EmulEnv,
} from './emulate';
import { InstructionCache, pageOf, PAGE_SIZE, type ICacheEntry } from './icache';
import { VIE_OP_F_NO_GLA_VERIFICATION, VIE_OP_TYPE_NAMES } from './opcodes';
import type { VcpuPort, VmContext, VmExitPort } from './ports';
import { newVie, VIE_INST_SIZE, vieInit, type Vie } from './vie';

export interface VmmConfig {
  strategy: Strategy;
  /** The cache (shared by all VMs, keyed by VM). Used by 'icache'; present for every strategy. */
  icache: InstructionCache;
  cost: Readonly<CostModel>;
  /** Where the units of every charged constant are counted (the machine's); default a new one. */
  units?: CostUnits;
  /** Where the memory operands' share of them is counted as well (the machine's); default a new one. */
  operandUnits?: CostUnits;
  /** Record the RIP walk's steps into each event (step mode, the selected exit, sampling). */
  recordWalks?: boolean;
  /**
   * Decode with iced alongside bhyve's parse: Intel-syntax text in the event and a length
   * cross-check; default true. false = bhyve's parse only (the bench's miss path).
   */
  disassemble?: boolean;
  /** Measure the host time of each handleExit into `hostNs` (performance.now); default false. */
  measureHostTime?: boolean;
}

/** What the machine does after handleExit. */
export type VmmAction =
  /** The VMM handled the exit (RIP advanced, or restarted, or a fault injected): re-enter. */
  | 'resume'
  /** Stop the run: `stop` says why (unsupported instruction, emulator error). */
  | 'stop'
  /** Not the exit path's (hlt, io, cpuid, msr, vmcall, interrupts): the machine hands it to platformExit (platform.ts). */
  | 'machine';

export interface InjectedFault {
  vector: number;
  errorCode: number;
  /** CR2 for #PF, else 0. */
  cr2: number;
}

/** ExitEvent plus what the machine needs to act on it (plain data). */
export interface VmmExitEvent extends ExitEvent {
  action: VmmAction;
  /** A fault injected into the guest by this exit (the instruction will be restarted). */
  injected?: InjectedFault;
  stop?: StopInfo;
}

/** Deep copy of an event (the Vmm reuses its event object). */
export function cloneExitEvent(ev: VmmExitEvent): VmmExitEvent {
  return {
    ...ev,
    stages: ev.stages.map((s) => ({ ...s })),
    walk: ev.walk ? ev.walk.map((s) => ({ ...s })) : undefined,
    wp: ev.wp ? { ...ev.wp, entries: ev.wp.entries.map((e) => ({ ...e })) } : undefined,
    injected: ev.injected ? { ...ev.injected } : undefined,
    stop: ev.stop ? { ...ev.stop } : undefined,
  };
}

/**
 * What iced said about one fetch window (rip and bytes): its length (0: no instruction), its
 * text, and whether the bytes ended first. iced's answer is a function of exactly these, so
 * the exit path keeps it and, on the next miss with the same window, runs only bhyve's parse
 * (the modeled decode) and replays iced's cross-check and text (an emulator-side extra).
 */
interface IcedMemo {
  bytes: Uint8Array;
  numValid: number;
  length: number;
  text: string;
  incomplete: boolean;
}
const ICED_MEMO_MAX = 4096;

function newStage(): Stage {
  return { name: 'exit', cycles: 0, detail: undefined, refs: undefined, held: undefined, operand: undefined };
}

/** A 64-bit TSS: RSP0-2 and IST1-7 within its first 104 bytes (SDM Vol. 3A, "Task Management in 64-bit Mode": 64-Bit TSS Format). */
const TSS64_BYTES = 104;

/** Which access of an event's delivery touched linear `gla`: the IDT gate, the TSS (a stack pointer), else the frame push. */
function deliveryAccess(gla: number, vcpu: VcpuPort): EventDelivery['access'] {
  if (gla >= vcpu.idtBase && gla <= vcpu.idtBase + vcpu.idtLimit) return 'gate';
  if (gla >= vcpu.tssBase && gla < vcpu.tssBase + TSS64_BYTES) return 'tss';
  return 'stack';
}

/** An emulator-side failure (not the guest's): stops the run with reason 'error'. */
export class VmmError extends Error {}

/**
 * Stages pooled up front: exit, lookup, the walk's two, fetch, decode, insert, protect,
 * emulate, device, and a few invalidations (a walk's A/D update on a protected table page, a
 * copy's write). An exit that needs more grows the pool (stage()): none is dropped.
 */
const POOLED_STAGES = 16;
/** The guest part of the walk stage's detail, by guest references (0..8). */
const GUEST_WALK_DETAIL: string[] = Array.from({ length: 9 }, (_, r) => `${r} guest ${plural(r, 'ref')}`);
/** The EPT part's, by pages held (0..10) and EPT references (0..99). */
const EPT_WALK_DETAIL: string[][] = Array.from({ length: 11 }, (_, p) =>
  Array.from({ length: 100 }, (_, r) => `${r} EPT ${plural(r, 'ref')}, ${p} ${plural(p, 'page')} held`),
);
const PROTECT_DETAIL: string[] = Array.from({ length: 11 }, (_, p) =>
  p === 0 ? 'pages already protected' : `${p} ${plural(p, 'page')} + INVEPT`,
);
const FETCH_DETAIL: string[][] = [0, 1, 2].map((p) =>
  Array.from({ length: 16 }, (_, b) => `${b} ${plural(b, 'byte')}, ${p} ${plural(p, 'page')}`),
);

/**
 * The VMM. One per machine; `handleExit` is called by the machine for every exit of every
 * vCPU of every VM. Call `attachVm` once per VM before its first exit and `detachVm` when the
 * VM is torn down.
 */
export class Vmm implements EmulEnv {
  strategy: Strategy;
  readonly icache: InstructionCache;
  cost: Readonly<CostModel>;
  recordWalks: boolean;
  disassemble: boolean;
  measureHostTime: boolean;

  /** Units charged per cost constant: cycles under any model = cyclesOfUnits(units, model). */
  readonly units: CostUnits;
  /** The part of `units` charged for emulated instructions' memory operands (operandWalkCycles). */
  readonly operandUnits: CostUnits;
  /** Sequence number of the next event. */
  seq = 0;

  private readonly decoder = new VieDecoder();
  private readonly icedMemo = new Map<number, IcedMemo>();
  private readonly scratchVie: Vie = newVie();
  private readonly walk1: WalkResult = newWalkResult();
  private readonly walk2: WalkResult = newWalkResult();
  private readonly copyWalk: WalkResult = newWalkResult();
  private readonly ctx: PagingContext = { cr0: 0, cr3: 0, cr4: 0, efer: 0 };
  private readonly fetchBuf = new Uint8Array(VIE_INST_SIZE);
  private readonly depPages: number[] = new Array<number>(10).fill(0);
  private readonly stagePool: Stage[] = Array.from({ length: POOLED_STAGES }, newStage);
  /** stageArrays[n]: the first n pooled stages, an exit's `stages` (no array made per exit). */
  private readonly stageArrays: Stage[][] = Array.from({ length: POOLED_STAGES + 1 }, (_, n) =>
    this.stagePool.slice(0, n),
  );
  private nStages = 0;
  private readonly ev: VmmExitEvent;
  private readonly injectedInfo: InjectedFault = { vector: 0, errorCode: 0, cr2: 0 };
  private readonly stopInfo: StopInfo = { reason: 'error', message: '' };

  // Per-exit state used by the EmulEnv methods.
  private curVm: VmContext | null = null;
  private curVcpu: VcpuPort | null = null;
  private restart = false;
  private injectedNow = false;
  private invalidatedNow = 0;
  private readonly copyHpa = [0, 0];
  private readonly copyGpa = [0, 0];
  private readonly copyLen = [0, 0];
  private copyChunks = 0;
  /** The current emulation's memory-operand work: references walked, pages held, copies and bytes copied. */
  private opRefs = 0;
  private opHeld = 0;
  private opCopies = 0;
  private opBytes = 0;
  /** The second page's #PF of a fetch, applied only if the decode needs its bytes. */
  private pendingPfError = -1;
  private pendingPfGla = 0;

  constructor(config: VmmConfig) {
    this.strategy = config.strategy;
    this.icache = config.icache;
    this.cost = config.cost;
    this.units = config.units ?? newCostUnits();
    this.operandUnits = config.operandUnits ?? newCostUnits();
    this.recordWalks = config.recordWalks ?? false;
    this.disassemble = config.disassemble ?? true;
    this.measureHostTime = config.measureHostTime ?? false;
    this.ev = {
      seq: 0, vm: 0, vcpu: 0, reason: 'mmio', rip: 0, cr3: 0,
      gla: undefined, gpa: undefined, access: undefined, retired: 0,
      stages: this.stageArrays[0], cycles: 0, atCycle: undefined, icache: undefined, insn: undefined,
      walk: undefined, invalidated: undefined, wp: undefined, line: undefined, hostNs: undefined,
      action: 'resume', injected: undefined, stop: undefined,
    };
  }

  /** Register a VM (its page tracker with the cache). */
  attachVm(vm: VmContext): void {
    this.icache.attachVm(vm.id, vm.pages);
  }

  /** Tear a VM down: drop its cache entries and lift the protections they held. */
  detachVm(vmId: number): number {
    return this.icache.detachVm(vmId);
  }

  /** Switch strategy between runs: the cache is emptied and its protections lifted. */
  setStrategy(s: Strategy): void {
    if (s !== this.strategy) this.icache.clear();
    this.strategy = s;
  }

  free(): void {
    this.decoder.free();
  }

  /**
   * Handle one VM exit of `vcpu` in `vm`. Precondition: exit.reason is an ExitReason (not
   * 'budget'/'stop', which are the machine's), and attachVm(vm) was called. The machine fills
   * `retired` (and may renumber `seq`) and acts on `action`.
   */
  handleExit(vm: VmContext, vcpu: VcpuPort, exit: VmExitPort): VmmExitEvent {
    const t0 = this.measureHostTime ? performance.now() : 0;
    const ev = this.beginEvent(vm, vcpu, exit);
    this.curVm = vm;
    this.curVcpu = vcpu;
    try {
      switch (exit.reason) {
        case 'mmio':
          this.handleInstEmul(vm, vcpu, exit);
          break;
        case 'ept-violation':
          this.handleWriteProtectFault(vm, exit);
          break;
        case 'apic-write':
          // APICv trap-like exit after a virtualized write: no walk, no fetch, no decode; the
          // write already reached the virtual APIC (apicv.ts), the handler acts on it.
          this.stage('device', chargeCycles('apicWriteHandler', 1, this.cost, this.units), 'apic-write');
          break;
        case 'budget':
        case 'stop':
          this.fail('error', `handleExit called with '${exit.reason}'`);
          break;
        default:
          ev.action = 'machine';
          break;
      }
    } catch (e) {
      if (!(e instanceof VmmError)) throw e;
      this.fail('error', e.message);
    }
    this.endEvent();
    if (this.measureHostTime) ev.hostNs = (performance.now() - t0) * 1e6;
    this.curVm = null;
    this.curVcpu = null;
    return ev;
  }

  // ---- instruction emulation (vm_handle_inst_emul) --------------------------------------

  private handleInstEmul(vm: VmContext, vcpu: VcpuPort, exit: VmExitPort): void {
    const ev = this.ev;
    const rip = exit.rip;
    const cr3 = vcpu.cr3;
    if (this.strategy === 'icache') {
      const hit: ICacheEntry | null = this.icache.lookup(vm.id, rip, cr3);
      this.stage('icache', icacheLookupCycles(this.cost, this.units), hit ? 'hit' : 'miss');
      ev.icache = hit ? 'hit' : 'miss';
      if (hit) {
        ev.insn = hit.vie.disasm;
        this.emulate(vcpu, exit, hit.vie);
        return;
      }
    }
    const vie: Vie = this.scratchVie;
    let firstLen = VIE_INST_SIZE;
    if (this.strategy === 'decode-assist' && exit.insnByteCount > 0) {
      // bhyve's vie_init with the bytes of the VMCB (svm_handle_inst_emul): no fetch.
      vieInit(vie, exit.insnBytes, exit.insnByteCount);
    } else {
      firstLen = this.fetchInstruction(vm, vcpu, rip, vie);
      if (firstLen < 0) return; // fault injected or run stopped
    }
    // vmm_decode_instruction
    const st = this.decodeVie(vie, rip);
    if (st !== DECODE_OK) {
      if (st === DECODE_INCOMPLETE && this.pendingPfError >= 0) {
        // The instruction does need the bytes of the second page, and that page faults:
        // bhyve's vm_copy_setup injects the #PF and resumes the guest.
        this.stage('decode', decodeCycles(vie.num_valid, this.cost, this.units), '#PF on the second page');
        this.inject(IDT_PF, this.pendingPfError, this.pendingPfGla);
        return;
      }
      const what = `${vie.disasm} [${hexBytes(vie.inst, this.decoder.icedLength || vie.num_valid)}]`;
      // The decode ran and refused: it is the last stage of this exit (the log and the
      // pipeline show the exit up to it), charged for the bytes it looked at.
      this.stage('decode', decodeCycles(Math.max(1, vie.num_processed), this.cost, this.units), `refused: ${vie.disasm || 'unknown opcode'}`);
      ev.insn = vie.disasm || undefined;
      if (st === DECODE_MISMATCH) {
        this.fail('unsupported', `unsupported instruction at ${hex(rip)}: ${what} (bhyve's decoder parses ${vie.num_processed} bytes, the instruction has ${this.decoder.icedLength})`);
      } else {
        this.fail('unsupported', `unsupported instruction at ${hex(rip)}: ${what} (bhyve's emulator cannot decode it)`);
      }
      return;
    }
    this.stage('decode', decodeCycles(vie.num_processed, this.cost, this.units), this.disassemble ? vie.disasm : undefined);
    ev.insn = this.disassemble ? vie.disasm : undefined;
    // verify_gla: the decoded operand must be the access that exited.
    if ((vie.op.op_flags & VIE_OP_F_NO_GLA_VERIFICATION) === 0) {
      const gla2 = computeGla(vcpu, vie, rip);
      if (gla2 !== exit.gla) {
        this.fail('error', `verify_gla mismatch at ${hex(rip)} (${vie.disasm}): exit gla ${hex(exit.gla)}, decoded ${hex(gla2)}`);
        return;
      }
    }
    const straddle = vie.num_processed > firstLen;
    if (this.strategy === 'icache') this.insert(vm, vcpu, rip, vie, straddle);
    this.emulate(vcpu, exit, vie);
  }

  /**
   * VieDecoder.decode(vie, rip, disassemble), with iced's part replayed from icedMemo when the
   * same window was decoded before (same results: bhyve's parse runs every time).
   */
  private decodeVie(vie: Vie, rip: number): number {
    const dec = this.decoder;
    if (!this.disassemble) {
      dec.checkWithIced = false;
      return dec.decode(vie, rip, false);
    }
    const n = vie.num_valid;
    const m = this.icedMemo.get(rip);
    if (m !== undefined && m.numValid === n && sameBytes(m.bytes, vie.inst, n)) {
      const status = bhyveDecode(vie);
      dec.icedLength = m.length;
      vie.disasm = m.text;
      if (m.length === 0) return m.incomplete ? DECODE_INCOMPLETE : DECODE_UNSUPPORTED;
      if (status !== 0) return DECODE_UNSUPPORTED;
      if (vie.num_processed !== m.length) return DECODE_MISMATCH;
      vie.decoded = 1;
      return DECODE_OK;
    }
    dec.checkWithIced = true;
    const st = dec.decode(vie, rip, true);
    if (this.icedMemo.size >= ICED_MEMO_MAX) this.icedMemo.clear();
    this.icedMemo.set(rip, {
      bytes: vie.inst.slice(0, n), numValid: n, length: dec.icedLength, text: vie.disasm, incomplete: st === DECODE_INCOMPLETE,
    });
    return st;
  }

  /**
   * vmm_fetch_instruction: translate RIP (gla2gpa, recorded when asked), copy up to 15 bytes,
   * translating the next page when they cross one. Returns how many bytes came from the
   * first page, or -1 when the exit is finished (#PF injected, or the run stopped).
   *
   * One deliberate difference: bhyve's vm_copy_setup translates the whole 15-byte window and
   * injects #PF when its second page is unmapped even if the instruction ends before it. Here
   * a fault on the second page is held back and injected only when the decode needs bytes
   * from that page (what the processor's own fetch would do), so every strategy sees the same
   * guest behaviour.
   */
  private fetchInstruction(vm: VmContext, vcpu: VcpuPort, rip: number, vie: Vie): number {
    const ctx = this.loadCtx(vcpu);
    const rec: WalkRecorder | null = this.recordWalks ? { steps: [] } : null;
    if (rec) this.ev.walk = rec.steps;
    this.pendingPfError = -1;
    const w1 = this.walk1;
    let refs = 0;
    const ok1 = this.walkVmm(vm, ctx, rip, 'fetch', vcpu.cpl, w1, rec);
    refs += w1.refs;
    let guestRefs = w1.guestRefs;
    if (!ok1) {
      this.walkStages(guestRefs, refs, 0);
      this.walkFailed(w1, rip);
      return -1;
    }
    const off = ((rip % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
    const n1 = Math.min(VIE_INST_SIZE, PAGE_SIZE - off);
    const buf = this.fetchBuf;
    const bytes = vm.ram.bytes;
    for (let i = 0; i < n1; i++) buf[i] = bytes[w1.hpa + i];
    let n = n1;
    let pages = 1;
    this.walk2.tableCount = 0;
    if (n1 < VIE_INST_SIZE) {
      const w2 = this.walk2;
      const ok2 = this.walkVmm(vm, ctx, rip + n1, 'fetch', vcpu.cpl, w2, rec);
      refs += w2.refs;
      guestRefs += w2.guestRefs;
      if (ok2) {
        for (let i = n1; i < VIE_INST_SIZE; i++) buf[i] = bytes[w2.hpa + i - n1];
        n = VIE_INST_SIZE;
        pages = 2;
      } else if (w2.fault !== null && w2.fault.kind === 'pf') {
        this.pendingPfError = w2.fault.errorCode;
        this.pendingPfGla = w2.fault.gla;
        w2.tableCount = 0;
      } else {
        w2.tableCount = 0; // not RAM after the page: decode with what we have
      }
    }
    this.walkStages(guestRefs, refs, pages);
    this.stage('fetch', fetchCycles(n, this.cost, this.units), FETCH_DETAIL[pages][n]);
    vieInit(vie, buf, n);
    return n1;
  }

  /**
   * The walk as two 'walk' stages: the guest entries read, then the EPT references that
   * translated each table page and the `found` pages, with the pages held (vm_gpa_hold: each
   * guest entry's table page, ptp_hold, and each page found; in bhyve the EPT lookup happens
   * inside each hold, pmap_extract_and_hold on the EPT pmap).
   */
  private walkStages(guestRefs: number, refs: number, found: number): void {
    const eptRefs = refs - guestRefs;
    const held = guestRefs + found;
    this.stage('walk', walkCycles(guestRefs, 0, this.cost, this.units), GUEST_WALK_DETAIL[Math.min(guestRefs, 8)], guestRefs);
    this.stage('walk', walkCycles(eptRefs, held, this.cost, this.units), EPT_WALK_DETAIL[Math.min(held, 10)][Math.min(eptRefs, 99)], eptRefs, held);
  }

  /**
   * gla2gpa for the VMM's own accesses (the fetch, vm_copy_setup): the one retry-after-
   * invalidate loop. bhyve's software walk sets A/D bits in host memory, so the EPT write
   * protection on a table page does not stop it; our shared walk reports it as an EPT violation
   * on the table page (row > 0). The VMM does what a write to a tracked page requires (the page
   * tracker invalidates its dependents, which lifts the protection) and walks again. A fault on
   * the data page itself (row 0) is left to the caller.
   */
  private walkVmm(
    vm: VmContext, ctx: PagingContext, gla: number, access: AccessKind, cpl: number, out: WalkResult, rec: WalkRecorder | null,
  ): boolean {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (gla2gpa(vm.ram, vm.ept, ctx, gla, access, cpl, out, rec)) return true;
      const f = out.fault;
      if (f === null || f.kind !== 'ept-violation' || f.access !== 'write' || f.row === 0) return false;
      const pn = Math.floor(f.gpa / PAGE_SIZE);
      if (!vm.pages.isProtected(pn)) return false;
      this.vmmWrote(vm, pn, 0, PAGE_SIZE);
    }
    return false;
  }

  /** Report a write to bytes [off, off + len) of page `pn` to the VM's page tracker. */
  private writeTracked(vm: VmContext, pn: number, off: number, len: number): void {
    vm.pages.write(pn, off, len);
    this.invalidatedNow += vm.pages.lastEntries;
  }

  /**
   * The VMM's own write to a tracked page (its walk setting an A/D bit, a copyout): no fault,
   * but the same work as one beyond the exit (find the dependents, drop them, lift the
   * protection, INVEPT), charged as an 'invalidate' stage of the exit that made the write.
   */
  private vmmWrote(vm: VmContext, pn: number, off: number, len: number): void {
    this.writeTracked(vm, pn, off, len);
    const n = vm.pages.lastEntries;
    const unprotected = vm.pages.lastUnprotected;
    if (n === 0 && unprotected === 0) return;
    this.invalidateStage(n, unprotected, pn * PAGE_SIZE, ": the VMM's own write");
  }

  /** The 'invalidate' stage: `n` entries dropped and `unprotected` pages' protection lifted, for a write to the page at `page`. */
  private invalidateStage(n: number, unprotected: number, page: number, why = ''): void {
    this.stage('invalidate', invalidateCycles(n, unprotected, this.cost, this.units), `${n} ${plural(n, 'entry', 'entries')}, page ${hex(page)}${why}`);
  }

  /** A failed RIP translation: inject the #PF, or stop on anything the guest cannot cause. */
  private walkFailed(w: WalkResult, rip: number): void {
    const f = w.fault;
    if (f !== null && f.kind === 'pf') {
      this.inject(IDT_PF, f.errorCode, f.gla);
      return;
    }
    this.fail('error', `instruction fetch at ${hex(rip)} failed: ${f === null ? 'unknown fault' : fetchFaultText(f)}`);
  }

  /** The seed's insert: cache the record and write-protect code and table pages. */
  private insert(vm: VmContext, vcpu: VcpuPort, rip: number, vie: Vie, straddle: boolean): void {
    const deps = this.depPages;
    let n = 0;
    const w1 = this.walk1;
    const w2 = this.walk2;
    deps[n++] = pageOf(w1.gpa);
    if (straddle) deps[n++] = pageOf(w2.gpa);
    const codePages = n;
    for (let i = 0; i < w1.tableCount; i++) deps[n++] = w1.tablePages[i];
    if (straddle) for (let i = 0; i < w2.tableCount; i++) deps[n++] = w2.tablePages[i];
    this.icache.insert(vm.id, rip, vcpu.cr3, vie, deps, n, codePages);
    const prot = this.icache.lastProtected;
    this.stage('insert', insertEntryCycles(this.cost, this.units), 'new entry');
    this.stage('protect', protectPagesCycles(prot, this.cost, this.units), PROTECT_DETAIL[Math.min(prot, 10)]);
  }

  /** vmm_emulate_instruction and the RIP update (bhyve: nextrip += num_processed). */
  private emulate(vcpu: VcpuPort, exit: VmExitPort, vie: Vie): void {
    this.restart = false;
    this.injectedNow = false;
    this.opRefs = this.opHeld = this.opCopies = this.opBytes = 0;
    const r = vmm_emulate_instruction(this, exit.gpa, vie);
    this.stage('emulate', emulateCycles(this.cost, this.units), VIE_OP_TYPE_NAMES[vie.op.op_type]);
    // A memory operand in guest RAM (movs, push, pop against a device): vm_copy_setup walked it
    // and held its pages, vm_copyin/out copied it. Emulation's own work, which no cache saves.
    if (this.opRefs > 0 || this.opHeld > 0) {
      this.stage('emulate', operandWalkCycles(this.opRefs, this.opHeld, this.cost, this.units, this.operandUnits),
        `operand walk: ${this.opRefs} ${plural(this.opRefs, 'ref')}, ${this.opHeld} ${plural(this.opHeld, 'page')} held`, this.opRefs, this.opHeld);
      this.stagePool[this.nStages - 1].operand = 'walk';
    }
    if (this.opCopies > 0) {
      this.stage('emulate', operandCopyCycles(this.opCopies, this.opBytes, this.cost, this.units, this.operandUnits),
        `operand copy: ${this.opBytes} ${plural(this.opBytes, 'byte')}`);
      this.stagePool[this.nStages - 1].operand = 'copy';
    }
    if (r === EINVAL) {
      this.fail('unsupported', `unsupported instruction at ${hex(exit.rip)}: ${vie.disasm || hexBytes(vie.inst, vie.num_processed)} (bhyve's emulator does not handle op ${hex(vie.op.op_byte)} /${vie.reg & 7})`);
      return;
    }
    if (r === EFAULT) {
      this.fail('error', `emulation of ${vie.disasm} at ${hex(exit.rip)} hit an address that is neither RAM nor a device`);
      return;
    }
    if (r !== EMUL_OK) {
      this.fail('error', `emulation failed (${r})`);
      return;
    }
    if (!this.restart && !this.injectedNow) vcpu.rip = exit.rip + vie.num_processed;
  }

  // ---- write-protect faults (the seed's "garbage collection") ---------------------------

  private handleWriteProtectFault(vm: VmContext, exit: VmExitPort): void {
    const page = pageOf(exit.gpa);
    const pn = page / PAGE_SIZE;
    if (exit.access !== 'write' || !vm.pages.isProtected(pn)) {
      // Not a write-protect fault of the cache's: bhyve's vm_handle_paging finds no memory to
      // fault in either, and the VM stops with EFAULT.
      this.fail('error', exit.gpa >= vm.ram.size
        ? `EPT violation (${exit.access}) at gpa ${hex(exit.gpa)}: no guest memory is there (RAM ends at ${hex(vm.ram.size)}) and no device, so the VMM cannot handle the exit`
        : `EPT violation (${exit.access}) at gpa ${hex(exit.gpa)} on a page the VMM did not write-protect, so it cannot handle the exit`);
      return;
    }
    this.icache.counters.wpFaults++;
    const dependents = vm.pages.entriesOnPage(pn);
    const wp: WpFaultInfo = {
      cause: wpCause(exit, dependents, page), page,
      entries: dependents.map((e) => ({ rip: e.rip, insn: e.disasm })),
    };
    if (wp.cause === 'ad-update' && exit.vectoring !== undefined && exit.vectoring >= 0) {
      wp.delivering = {
        vector: exit.vectoring,
        kind: exit.vectoringExternal ? 'interrupt' : 'exception',
        access: deliveryAccess(exit.gla, this.vcpu),
      };
    }
    this.ev.wp = wp;
    if (exit.insnText) this.ev.insn = exit.insnText;
    let n = 0, unprotected = 0;
    if (this.icache.debugBreakInvalidation) {
      unprotected = vm.pages.debugUnprotect(pn) ? 1 : 0;
    } else {
      // The EPT does not say which bytes the store writes: the whole page.
      this.writeTracked(vm, pn, 0, PAGE_SIZE);
      n = vm.pages.lastEntries;
      unprotected = vm.pages.lastUnprotected;
    }
    this.invalidateStage(n, unprotected, page);
    // Fault-like exit: RIP still points at the store, which now completes on re-entry.
  }

  // ---- EmulEnv (bhyve's callbacks and vm_copy_* helpers) --------------------------------

  get vcpu(): VcpuPort {
    if (this.curVcpu === null) throw new VmmError('no current vCPU');
    return this.curVcpu;
  }

  memread(gpa: number, size: number): bigint {
    const vm = this.curVm!;
    const dev = vm.mmio(this.vcpu.id, gpa, size);
    if (dev === null) throw new VmmError(`no device at gpa ${hex(gpa)} (${size} bytes)`);
    return dev.read(gpa, size as AccessSize);
  }

  memwrite(gpa: number, size: number, value: bigint): void {
    const vm = this.curVm!;
    const dev = vm.mmio(this.vcpu.id, gpa, size);
    if (dev === null) throw new VmmError(`no device at gpa ${hex(gpa)} (${size} bytes)`);
    dev.write(gpa, size as AccessSize, value);
  }

  copySetup(gla: number, size: number, write: boolean): number {
    this.copyChunks = 0;
    let done = 0;
    while (done < size) {
      const a = gla + done;
      const off = ((a % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
      const len = Math.min(size - done, PAGE_SIZE - off);
      const gpa = this.translateForCopy(a, write);
      // bhyve's gla2gpa holds each table page it reads (ptp_hold); vm_copy_setup then holds the page found, if RAM.
      this.opRefs += this.copyWalk.refs;
      this.opHeld += this.copyWalk.guestRefs + (gpa >= 0 ? 1 : 0);
      if (gpa === -1) return COPY_FAULT;
      if (gpa === -2) return EFAULT;
      this.copyGpa[this.copyChunks] = gpa;
      this.copyHpa[this.copyChunks] = gpa; // RAM: HPA = GPA (mem contract)
      this.copyLen[this.copyChunks] = len;
      this.copyChunks++;
      done += len;
    }
    return EMUL_OK;
  }

  copyin(size: number): bigint {
    this.opCopies++;
    this.opBytes += size;
    const bytes = this.curVm!.ram.bytes;
    let v = 0n;
    let k = 0;
    for (let c = 0; c < this.copyChunks; c++) {
      for (let i = 0; i < this.copyLen[c] && k < size; i++, k++) {
        v |= BigInt(bytes[this.copyHpa[c] + i]) << BigInt(8 * k);
      }
    }
    return v;
  }

  copyout(size: number, value: bigint): void {
    this.opCopies++;
    this.opBytes += size;
    const vm = this.curVm!;
    const bytes = vm.ram.bytes;
    let k = 0;
    for (let c = 0; c < this.copyChunks; c++) {
      vm.ram.noteWrite(this.copyHpa[c]);
      let i = 0;
      for (; i < this.copyLen[c] && k < size; i++, k++) {
        bytes[this.copyHpa[c] + i] = Number((value >> BigInt(8 * k)) & 0xffn);
      }
      // The VMM wrote guest RAM: cached instructions and translated code on it are stale.
      const gpa = this.copyGpa[c];
      const pn = Math.floor(gpa / PAGE_SIZE);
      if (i > 0) this.vmmWrote(vm, pn, gpa - pn * PAGE_SIZE, i);
    }
  }

  gla2gpa(gla: number, write: boolean): number {
    const ctx = this.loadCtx(this.vcpu);
    const w = this.copyWalk;
    const ok = gla2gpa(this.curVm!.ram, this.curVm!.ept, ctx, gla, write ? 'write' : 'read', this.vcpu.cpl, w, null);
    // vm_gla2gpa holds each table page it reads; the page found is a device's, not held.
    this.opRefs += w.refs;
    this.opHeld += w.guestRefs;
    if (ok) return w.gpa;
    const f = w.fault;
    if (f !== null && f.kind === 'pf') {
      this.inject(IDT_PF, f.errorCode, f.gla);
      return -1;
    }
    if (f !== null && f.row === 0) return w.gpa; // an MMIO (or protected) data page
    throw new VmmError(`translation of ${hex(gla)} failed: ${f === null ? 'unknown' : f.kind}`);
  }

  inject(vector: number, errorCode: number, cr2 = 0): void {
    this.vcpu.injectException(vector, errorCode, vector === IDT_PF ? cr2 : undefined);
    this.injectedNow = true;
    const inj = this.injectedInfo;
    inj.vector = vector;
    inj.errorCode = errorCode;
    inj.cr2 = vector === IDT_PF ? cr2 : 0;
    this.ev.injected = inj;
  }

  restartInstruction(): void {
    this.restart = true;
  }

  /**
   * One page of a vm_copy_setup: the guest-physical address, -1 after injecting a #PF, -2
   * when the page is not RAM (MMIO). A write to a page the tracker protected is the VMM's own
   * write: allowed (copyout reports it to the tracker). An A/D update on a protected table page
   * is handled by walkVmm.
   */
  private translateForCopy(gla: number, write: boolean): number {
    const vm = this.curVm!;
    const vcpu = this.vcpu;
    const ctx = this.loadCtx(vcpu);
    const w = this.copyWalk;
    if (this.walkVmm(vm, ctx, gla, write ? 'write' : 'read', vcpu.cpl, w, null)) return w.gpa;
    const f = w.fault;
    if (f === null || f.kind === 'mmio') return -2;
    if (f.kind === 'pf') {
      this.inject(IDT_PF, f.errorCode, f.gla);
      return -1;
    }
    // EPT violation on the data page: the VMM may write a page the tracker protected.
    if (f.access === 'write' && f.row === 0 && vm.pages.isProtected(Math.floor(f.gpa / PAGE_SIZE))) return w.gpa;
    return -2;
  }

  // ---- events --------------------------------------------------------------------------

  private loadCtx(vcpu: VcpuPort): PagingContext {
    const c = this.ctx;
    c.cr0 = vcpu.cr0;
    c.cr3 = vcpu.cr3;
    c.cr4 = vcpu.cr4;
    c.efer = vcpu.efer;
    return c;
  }

  private beginEvent(vm: VmContext, vcpu: VcpuPort, exit: VmExitPort): VmmExitEvent {
    const ev = this.ev;
    ev.seq = this.seq++;
    ev.vm = vm.id;
    ev.vcpu = vcpu.id;
    ev.reason = exit.reason === 'budget' || exit.reason === 'stop' ? 'mmio' : exit.reason;
    ev.rip = exit.rip;
    ev.cr3 = vcpu.cr3;
    const hasAddr = exit.reason === 'mmio' || exit.reason === 'ept-violation' || exit.reason === 'apic-write';
    ev.gla = hasAddr ? exit.gla : undefined;
    ev.gpa = hasAddr ? exit.gpa : undefined;
    ev.access = hasAddr ? exit.access : undefined;
    ev.pagingEntry = exit.reason === 'ept-violation' ? exit.pagingEntry === true : undefined;
    ev.retired = 0;
    ev.cycles = 0;
    ev.icache = undefined;
    ev.insn = undefined;
    ev.walk = undefined;
    ev.invalidated = undefined;
    ev.wp = undefined;
    ev.line = undefined;
    ev.hostNs = undefined;
    ev.action = 'resume';
    ev.injected = undefined;
    ev.stop = undefined;
    this.invalidatedNow = 0;
    this.nStages = 0;
    this.stage('exit', exitCycles(this.cost, this.units), ev.reason);
    return ev;
  }

  private endEvent(): void {
    const ev = this.ev;
    ev.stages = this.stageArrays[this.nStages];
    let sum = 0;
    for (let i = 0; i < this.nStages; i++) sum += this.stagePool[i].cycles;
    ev.cycles = sum;
    if (this.invalidatedNow > 0) ev.invalidated = this.invalidatedNow;
  }

  private stage(name: StageName, cycles: number, detail?: string, refs?: number, held?: number): void {
    if (this.nStages === this.stagePool.length) {
      this.stagePool.push(newStage());
      this.stageArrays.push(this.stagePool.slice());
    }
    const s = this.stagePool[this.nStages++];
    s.name = name;
    s.cycles = cycles;
    s.detail = detail;
    s.refs = refs;
    s.held = held;
    s.operand = undefined;
  }

  private fail(reason: StopInfo['reason'], message: string): void {
    const s = this.stopInfo;
    s.reason = reason;
    s.message = message;
    this.ev.stop = s;
    this.ev.action = 'stop';
  }
}

/**
 * Why the VMM's own walk of RIP stopped in the EPT: at RIP's page (row 0: bhyve's vm_copy_setup
 * finds no memory to copy the bytes from), or at a guest page-table page (rows 4..1).
 */
function fetchFaultText(f: EptWalkFault): string {
  const where = f.row === 0 ? 'the instruction is' : `the guest's level-${f.row} page table is`;
  return f.kind === 'mmio'
    ? `${where} on a device page (gpa ${hex(f.gpa)}), and the VMM fetches bytes from guest memory only`
    : `${where} at gpa ${hex(f.gpa)}, where the EPT maps no guest memory`;
}

/**
 * Why a write-protected page was written: the walk's A/D update (the exit says so), else the
 * guest's own store, to a code page when some entry holds instruction bytes there (a page that
 * is both code and page table counts as code), else to a page-table page.
 */
function wpCause(exit: VmExitPort, dependents: readonly ICacheEntry[], page: number): WpCause {
  if (exit.pagingEntry === true) return 'ad-update';
  for (const e of dependents) {
    for (let i = 0; i < e.codePages; i++) if (e.pages[i] === page) return 'code-store';
  }
  return 'table-store';
}

function sameBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
