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
