/**
 * The newest exits since the last frame, for the event log and the charts: the Worker sees
 * every exit (the machine's reused event, Machine.onExitTransient) but a frame carries only the
 * newest `capacity` of them. Each exit is copied field by field into a slot of a fixed ring
 * allocated once (its stages into the slot's own stage columns), so the hot path allocates
 * nothing per exit: no deep copy of every exit, no shift() of a growing array.
 */
import type { ExitEvent, ExitReason, Stage, StageName } from '../core/events';

/** The fields of ExitEvent that copyExit copies: adding a field to ExitEvent without copying it fails to compile here. */
type Copied = 'seq' | 'vm' | 'vcpu' | 'reason' | 'rip' | 'cr3' | 'gla' | 'gpa' | 'access' | 'pagingEntry' | 'retired'
  | 'stages' | 'cycles' | 'atCycle' | 'icache' | 'insn' | 'walk' | 'invalidated' | 'wp' | 'line' | 'stop' | 'hostNs';
type NoneLeft<T extends never> = T;
export type EveryExitFieldCopied = NoneLeft<Exclude<keyof ExitEvent, Copied>>;
/** The same for a stage's fields (copyExit, and the ring's stage columns). */
export type EveryStageFieldCopied = NoneLeft<Exclude<keyof Stage, 'name' | 'cycles' | 'detail' | 'refs' | 'held' | 'operand'>>;

/** An exit record to copy into. */
export function blankExit(): ExitEvent {
  return {
    seq: 0, vm: 0, vcpu: 0, reason: 'mmio', rip: 0, cr3: 0, gla: undefined, gpa: undefined, access: undefined,
    pagingEntry: undefined, retired: 0, stages: [], cycles: 0, atCycle: undefined, icache: undefined, insn: undefined,
    walk: undefined, invalidated: undefined, wp: undefined, line: undefined, stop: undefined, hostNs: undefined,
  };
}

/**
 * Copy `src` into `dst`, reusing dst's stage records. The walk and the write-protect fault's
 * details are shared, not copied: the VMM makes each of them new and never writes it again.
 */
export function copyExit(dst: ExitEvent, src: Readonly<ExitEvent>): ExitEvent {
  dst.seq = src.seq;
  dst.vm = src.vm;
  dst.vcpu = src.vcpu;
  dst.reason = src.reason;
  dst.rip = src.rip;
  dst.cr3 = src.cr3;
  dst.gla = src.gla;
  dst.gpa = src.gpa;
  dst.access = src.access;
  dst.pagingEntry = src.pagingEntry;
  dst.retired = src.retired;
  dst.cycles = src.cycles;
  dst.atCycle = src.atCycle;
  dst.icache = src.icache;
  dst.insn = src.insn;
  dst.walk = src.walk;
  dst.invalidated = src.invalidated;
  dst.wp = src.wp;
  dst.line = src.line;
  // The VMM reuses its stop record; a run stops once, so copying it costs nothing per exit.
  dst.stop = src.stop ? { reason: src.stop.reason, message: src.stop.message } : undefined;
  dst.hostNs = src.hostNs;
  const from = src.stages;
  const to = dst.stages;
  for (let i = 0; i < from.length; i++) {
    const s = from[i];
    let d: Stage | undefined = to[i];
    if (d === undefined) to.push((d = { name: s.name, cycles: 0, detail: undefined, refs: undefined, held: undefined, operand: undefined }));
    d.name = s.name;
    d.cycles = s.cycles;
    d.detail = s.detail;
    d.refs = s.refs;
    d.held = s.held;
    d.operand = s.operand;
  }
  // Setting an array's length costs a runtime call even when it does not change (~8% of the Worker's per-exit copy).
  if (to.length !== from.length) to.length = from.length;
  return dst;
}

/** Stage records a ring slot keeps in its arrays (a miss charges 9); an exit with more keeps a copy. */
const SLOT_STAGES = 16;

/**
 * The ring's slots are columns, not objects: a number goes into a Float64Array (NaN where the
 * field is undefined), a string or a record (the walk, the fault) into an array of references.
 * Written into an object's field that is sometimes undefined, a number that is not a small
 * integer (an MMIO address, the cycle clock, host ns) is a new heap number: 4-5 of them per
 * exit, most of the copy's cost (~150 ns of each exit's ~1 us on the hit path, bench:exits'
 * worker mode). take() builds the objects of the exits it hands out, at most `capacity` per frame.
 */
export class ExitRing {
  private readonly num: Float64Array;
  private readonly ref: unknown[];
  private readonly stageCount: Uint8Array;
  private readonly stageCycles: Float64Array;
  /** A stage's walk counts: refs, then held (NaN where the stage has none). */
  private readonly stageCounts: Float64Array;
  private readonly stageRef: unknown[];
  private readonly overflow: (Stage[] | undefined)[];
  /** Exits pushed since the last take. */
  private count = 0;

  constructor(readonly capacity: number) {
    this.num = new Float64Array(capacity * NUM_FIELDS);
    this.ref = new Array<unknown>(capacity * REF_FIELDS).fill(undefined);
    this.stageCount = new Uint8Array(capacity);
    this.stageCycles = new Float64Array(capacity * SLOT_STAGES);
    this.stageCounts = new Float64Array(capacity * SLOT_STAGES * 2);
    this.stageRef = new Array<unknown>(capacity * SLOT_STAGES * 3).fill(undefined);
    this.overflow = new Array<Stage[] | undefined>(capacity).fill(undefined);
  }

  push(e: Readonly<ExitEvent>): void {
    const slot = this.count % this.capacity;
    this.count++;
    const n = this.num;
    const i = slot * NUM_FIELDS;
    n[i] = e.seq;
    n[i + 1] = e.vm;
    n[i + 2] = e.vcpu;
    n[i + 3] = e.rip;
    n[i + 4] = e.cr3;
    n[i + 5] = e.gla ?? NaN;
    n[i + 6] = e.gpa ?? NaN;
    n[i + 7] = e.pagingEntry === undefined ? NaN : e.pagingEntry ? 1 : 0;
    n[i + 8] = e.retired;
    n[i + 9] = e.cycles;
    n[i + 10] = e.atCycle ?? NaN;
    n[i + 11] = e.invalidated ?? NaN;
    n[i + 12] = e.line ?? NaN;
    n[i + 13] = e.hostNs ?? NaN;
    const r = this.ref;
    const j = slot * REF_FIELDS;
    r[j] = e.reason;
    r[j + 1] = e.access;
    r[j + 2] = e.icache;
    r[j + 3] = e.insn;
    r[j + 4] = e.walk;
    r[j + 5] = e.wp;
    // The VMM reuses its stop record; a run stops once, so copying it costs nothing per exit.
    r[j + 6] = e.stop ? { reason: e.stop.reason, message: e.stop.message } : undefined;
    const from = e.stages;
    if (from.length > SLOT_STAGES) {
      this.overflow[slot] = from.map((s) => ({ name: s.name, cycles: s.cycles, detail: s.detail, refs: s.refs, held: s.held, operand: s.operand }));
      return;
    }
    this.overflow[slot] = undefined;
    this.stageCount[slot] = from.length;
    const c = this.stageCycles;
    const sc = this.stageCounts;
    const sr = this.stageRef;
    const k = slot * SLOT_STAGES;
    for (let x = 0; x < from.length; x++) {
      const s = from[x];
      c[k + x] = s.cycles;
      sc[2 * (k + x)] = s.refs ?? NaN;
      sc[2 * (k + x) + 1] = s.held ?? NaN;
      sr[3 * (k + x)] = s.name;
      sr[3 * (k + x) + 1] = s.detail;
      sr[3 * (k + x) + 2] = s.operand;
    }
  }

  /**
   * The exits since the last take, oldest first (the newest `capacity` of them), as new
   * records, and how many older ones were not kept.
   */
  take(): { exits: ExitEvent[]; dropped: number } {
    const n = Math.min(this.count, this.capacity);
    const exits: ExitEvent[] = [];
    for (let q = this.count - n; q < this.count; q++) exits.push(this.exitAt(q % this.capacity));
    const dropped = this.count - n;
    this.count = 0;
    return { exits, dropped };
  }

  clear(): void {
    this.count = 0;
  }

  private exitAt(slot: number): ExitEvent {
    const n = this.num;
    const i = slot * NUM_FIELDS;
    const r = this.ref;
    const j = slot * REF_FIELDS;
    const opt = (v: number) => (Number.isNaN(v) ? undefined : v);
    let stages = this.overflow[slot];
    if (stages === undefined) {
      stages = [];
      const k = slot * SLOT_STAGES;
      for (let x = 0; x < this.stageCount[slot]; x++) {
        stages.push({
          name: this.stageRef[3 * (k + x)] as StageName, cycles: this.stageCycles[k + x], detail: this.stageRef[3 * (k + x) + 1] as string | undefined,
          refs: opt(this.stageCounts[2 * (k + x)]), held: opt(this.stageCounts[2 * (k + x) + 1]), operand: this.stageRef[3 * (k + x) + 2] as Stage['operand'],
        });
      }
    }
    const e: EveryField = {
      seq: n[i], vm: n[i + 1], vcpu: n[i + 2], reason: r[j] as ExitReason, rip: n[i + 3], cr3: n[i + 4],
      gla: opt(n[i + 5]), gpa: opt(n[i + 6]), access: r[j + 1] as ExitEvent['access'],
      pagingEntry: Number.isNaN(n[i + 7]) ? undefined : n[i + 7] === 1,
      retired: n[i + 8], stages, cycles: n[i + 9], atCycle: opt(n[i + 10]), icache: r[j + 2] as ExitEvent['icache'],
      insn: r[j + 3] as string | undefined, walk: r[j + 4] as ExitEvent['walk'], invalidated: opt(n[i + 11]),
      wp: r[j + 5] as ExitEvent['wp'], line: opt(n[i + 12]), stop: r[j + 6] as ExitEvent['stop'], hostNs: opt(n[i + 13]),
    };
    return e;
  }
}

/** Every field of ExitEvent, the optional ones too: exitAt fails to compile when ExitEvent gains one it does not set. */
type EveryField = { [K in keyof Required<ExitEvent>]: ExitEvent[K] };

/** Columns of a slot: the numbers (seq vm vcpu rip cr3 gla gpa pagingEntry retired cycles atCycle invalidated line hostNs) and the references (reason access icache insn walk wp stop). */
const NUM_FIELDS = 14;
const REF_FIELDS = 7;
