/**
 * The newest exits since the last frame, for the event log and the charts: the Worker sees
 * every exit (the machine's reused event, Machine.onExitTransient) but a frame carries only the
 * newest `capacity` of them. Each exit is copied field by field into a slot of a fixed ring of
 * records allocated once (its stages into the slot's own stage records), so the hot path
 * allocates nothing per exit: no deep copy of every exit, no shift() of a growing array.
 */
import type { ExitEvent, Stage } from '../core/events';

/** The fields of ExitEvent that copyExit copies: adding a field to ExitEvent without copying it fails to compile here. */
type Copied = 'seq' | 'vm' | 'vcpu' | 'reason' | 'rip' | 'cr3' | 'gla' | 'gpa' | 'access' | 'pagingEntry' | 'retired'
  | 'stages' | 'cycles' | 'atCycle' | 'icache' | 'insn' | 'walk' | 'invalidated' | 'wp' | 'line' | 'stop' | 'hostNs';
type NoneLeft<T extends never> = T;
export type EveryExitFieldCopied = NoneLeft<Exclude<keyof ExitEvent, Copied>>;

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
    if (d === undefined) to.push((d = { name: s.name, cycles: 0, detail: undefined }));
    d.name = s.name;
    d.cycles = s.cycles;
    d.detail = s.detail;
  }
  // Setting an array's length costs a runtime call even when it does not change (~8% of the Worker's per-exit copy).
  if (to.length !== from.length) to.length = from.length;
  return dst;
}

export class ExitRing {
  private readonly slots: ExitEvent[] = [];
  /** Exits pushed since the last take. */
  private count = 0;

  constructor(readonly capacity: number) {
    for (let i = 0; i < capacity; i++) this.slots.push(blankExit());
  }

  push(e: Readonly<ExitEvent>): void {
    copyExit(this.slots[this.count % this.capacity], e);
    this.count++;
  }

  /**
   * The exits since the last take, oldest first (the newest `capacity` of them), and how many
   * older ones were not kept. The records are the ring's own, valid until the next push: post
   * them at once (postMessage copies them).
   */
  take(): { exits: ExitEvent[]; dropped: number } {
    const n = Math.min(this.count, this.capacity);
    const exits: ExitEvent[] = [];
    for (let i = this.count - n; i < this.count; i++) exits.push(this.slots[i % this.capacity]);
    const dropped = this.count - n;
    this.count = 0;
    return { exits, dropped };
  }

  clear(): void {
    this.count = 0;
  }
}
