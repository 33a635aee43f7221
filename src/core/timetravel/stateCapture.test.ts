import { describe, expect, it } from 'vitest';
import { captureState, PayloadCounter, restoreState, type CapturePolicy } from './stateCapture';

const policy: CapturePolicy = { keep: new Set(), refOnly: new Set() };

describe('captureState', () => {
  it('writes the values back into the same objects', () => {
    const regs = new Int32Array([1, 2, 3, 4]);
    const inner = { a: 1, list: [1, 2] };
    const root = { regs, inner, map: new Map([['x', 1]]) };
    const snap = captureState([root], policy);
    regs[0] = 9;
    inner.a = 2;
    inner.list.push(3);
    root.map.set('y', 2);
    restoreState(snap);
    expect(root.regs).toBe(regs);
    expect([...regs]).toEqual([1, 2, 3, 4]);
    expect(inner).toEqual({ a: 1, list: [1, 2] });
    expect([...root.map]).toEqual([['x', 1]]);
  });

  it('writes back an array that shrank or grew since, element by element', () => {
    const root = { grew: [1, 2], shrank: [1, 2, 3, 4] };
    const snap = captureState([root], policy);
    root.grew.push(3, 4);
    root.shrank.length = 1;
    restoreState(snap);
    expect(root.grew).toEqual([1, 2]);
    expect(root.shrank).toEqual([1, 2, 3, 4]);
    expect(Object.keys(root.shrank)).toEqual(['0', '1', '2', '3']);
  });

  it('writes back only the fields that changed (a store of the same value is not made)', () => {
    let stores = 0;
    let held = 5;
    const root: { fixed: number; moving: number } = { fixed: 0, moving: 1 };
    Object.defineProperty(root, 'fixed', { enumerable: true, get: () => held, set: (v: number) => { stores++; held = v; } });
    const snap = captureState([root], policy);
    root.moving = 2;
    restoreState(snap);
    expect(stores).toBe(0);
    expect(root.moving).toBe(1);
    root.fixed = 7;
    restoreState(snap);
    expect(stores).toBe(2);
    expect(root.fixed).toBe(5);
  });

  it('shares the arrays of what did not change with the previous snapshot, and copies what did', () => {
    const still = new Int32Array(64);
    const moving = new Int32Array(64);
    const root = { still, moving, fixed: { a: 1, b: 2 }, counter: { n: 0 } };
    const first = captureState([root], policy);
    moving[3] = 7;
    root.counter.n = 1;
    const second = captureState([root], policy, first);
    const shared = second.payloads.filter((p) => first.payloads.includes(p));
    const fresh = second.payloads.filter((p) => !first.payloads.includes(p));
    // still's copy, fixed's keys and values, counter's keys, the root's keys and values; moving's copy and counter's values are new.
    expect(fresh).toHaveLength(2);
    expect(fresh).toContainEqual(new Int32Array(64).fill(0).map((_, i) => (i === 3 ? 7 : 0)));
    expect(fresh).toContainEqual([1]);
    expect(shared.length).toBe(second.payloads.length - 2);
  });
});

describe('captureState with write counters (policy.versions)', () => {
  const counted: CapturePolicy = { keep: new Set(), refOnly: new Set(), versions: new Map([['words', 'writes']]) };
  const table = () => ({ words: new Uint32Array(1024), writes: 0 });

  it('takes an array whose counter did not move as unchanged, without reading it', () => {
    const t = table();
    const first = captureState([t], counted);
    t.words[5] = 1; // a write that breaks the contract (the counter stays): the array is not read
    const second = captureState([t], counted, first, { unchangedIfSameVersion: true });
    restoreState(second);
    expect(t.words[5]).toBe(0);
  });

  it('compares the contents after a restore, when the counter says nothing (it was written back with the state)', () => {
    const t = table();
    const s0 = captureState([t], counted);
    t.words[1] = 7; t.writes++;
    const s1 = captureState([t], counted, s0, { unchangedIfSameVersion: true });
    restoreState(s0); // words back to all zeros, writes back to 0
    t.words[2] = 9; t.writes++; // the counter reads 1 again, as at s1, over other contents
    const s2 = captureState([t], counted, s1, { unchangedIfSameVersion: false });
    t.words.fill(0);
    restoreState(s2);
    expect([t.words[1], t.words[2]]).toEqual([0, 9]);
    restoreState(s1);
    expect([t.words[1], t.words[2]]).toEqual([7, 0]);
  });

  it('copies an array whose counter moved', () => {
    const t = table();
    const first = captureState([t], counted);
    t.words[3] = 4; t.writes++;
    const second = captureState([t], counted, first, { unchangedIfSameVersion: true });
    t.words[3] = 0;
    restoreState(second);
    expect(t.words[3]).toBe(4);
  });
});

describe('PayloadCounter', () => {
  it('counts an array two snapshots share once, and keeps counting it when the snapshot that made it goes', () => {
    const big = new Uint8Array(100_000);
    const root = { big, n: 0 };
    const first = captureState([root], policy);
    root.n = 1;
    const second = captureState([root], policy, first);
    const counter = new PayloadCounter();
    counter.add(first);
    const one = counter.bytes;
    counter.add(second);
    // The second adds its own records and its new values array, not another copy of big.
    expect(counter.bytes - one).toBeLessThan(1000);
    counter.remove(first);
    // big's copy is still held (by the second snapshot) and still counted.
    expect(counter.bytes).toBeGreaterThan(100_000);
    counter.remove(second);
    expect(counter.bytes).toBe(0);
  });
});
