import { describe, expect, it } from 'vitest';
import type { ExitEvent, ExitReason } from '../../../core/events';
import { ListedReasons } from './listedReasons';

const ex = (seq: number, reason: ExitReason = 'mmio'): ExitEvent =>
  ({ seq, vm: 0, vcpu: 0, reason, rip: 0, cr3: 0, retired: seq, stages: [], cycles: 1 });

describe('ListedReasons', () => {
  it('lists the reasons of the rows, and keeps the same Set while no reason is new', () => {
    const log = [ex(0), ex(1, 'hlt')];
    const r = new ListedReasons();
    const first = r.update(log);
    expect([...first].sort()).toEqual(['hlt', 'mmio']);
    log.push(ex(2), ex(3, 'hlt'));
    expect(r.update(log)).toBe(first);
    log.push(ex(4, 'io'));
    const next = r.update(log);
    expect(next).not.toBe(first);
    expect([...next].sort()).toEqual(['hlt', 'io', 'mmio']);
    expect([...first].sort()).toEqual(['hlt', 'mmio']); // a Set handed out is never changed
  });

  it('rescans a new log, a shortened one and one whose head was dropped', () => {
    const r = new ListedReasons();
    const log = [ex(0, 'hlt'), ex(1), ex(2, 'io')];
    expect(r.update(log).size).toBe(3);
    expect([...r.update([ex(0)])]).toEqual(['mmio']);
    const grown = [ex(0), ex(1, 'hlt'), ex(2, 'io')];
    expect(r.update(grown).size).toBe(3);
    grown.length = 1; // the future after exit 0 dropped (Run from here)
    expect([...r.update(grown)]).toEqual(['mmio']);
    const full = [ex(0, 'hlt'), ex(1), ex(2)];
    r.update(full);
    full.splice(0, 1); // the oldest dropped at capacity
    full.push(ex(3));
    expect([...r.update(full)]).toEqual(['mmio']);
  });
});
