/**
 * Identity-preserving snapshots of an object graph: `captureState(roots)` records the value of
 * every field of every object reachable from the roots (typed arrays, arrays, Maps and Sets by
 * content), and `restoreState(snapshot)` writes those values back into the *same* objects.
 * Because identities survive, closures and references that tie the machine together (a LAPIC's
 * clock reading its vCPU, the APICv fast path, the MMIO router) keep working after a restore,
 * and nothing here needs to know the classes it saves: a field a class gains is saved too.
 *
 * What is not state is named in a `CapturePolicy`: derived caches, static data, scratch, and
 * what another mechanism saves (guest RAM goes through RamHistory as page versions).
 * Functions are never saved. Plain data only: no DOM, no host clock.
 */

/** Which fields are not part of the state. Field names apply to every object in the graph. */
export interface CapturePolicy {
  /** Fields neither saved nor restored: their live value stays (caches, static data, settings). */
  keep: ReadonlySet<string>;
  /** Fields whose reference is saved and restored but whose contents are not (someone else resets them). */
  refOnly: ReadonlySet<string>;
  /** Objects never traversed (their fields stay as they are). */
  opaque?: (o: object) => boolean;
}

type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** One object's saved contents. Kinds: fields of an object, elements of an array or typed array, Map and Set entries. */
type Saved =
  | { k: 'o'; o: Record<string, unknown>; keys: string[]; vals: unknown[] }
  | { k: 'a'; o: unknown[]; vals: unknown[] }
  | { k: 't'; o: TypedArray; copy: TypedArray }
  | { k: 'm'; o: Map<unknown, unknown>; entries: unknown[] }
  | { k: 's'; o: Set<unknown>; vals: unknown[] };

export interface StateSnapshot {
  readonly saved: readonly Saved[];
  /** Bytes this snapshot holds that no earlier snapshot shares (an estimate for the memory budget). */
  readonly bytes: number;
}

/** Estimated bytes of one saved slot (a value in an array of a V8 heap object). */
const SLOT_BYTES = 8;
const RECORD_BYTES = 48;

function isTypedArray(v: object): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function sameContents(a: TypedArray, b: TypedArray): boolean {
  if (a.byteLength !== b.byteLength || a.constructor !== b.constructor) return false;
  // Compare bits, 4 bytes at a time where the views allow it (as floats, NaN != NaN and 0 == -0).
  if (a.byteLength % 4 === 0 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const x = new Int32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    const y = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Save the state reachable from `roots`. `previous` (the last snapshot of the same graph) lets
 * a typed array whose contents did not change share that snapshot's copy instead of a new one.
 */
export function captureState(roots: readonly object[], policy: CapturePolicy, previous?: StateSnapshot): StateSnapshot {
  const saved: Saved[] = [];
  const seen = new Set<object>();
  const prevCopy = new Map<object, TypedArray>();
  if (previous) for (const s of previous.saved) if (s.k === 't') prevCopy.set(s.o, s.copy);
  let bytes = 0;
  const stack: object[] = [];
  const visit = (v: unknown) => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    stack.push(v);
  };
  for (const r of roots) visit(r);
  while (stack.length > 0) {
    const o = stack.pop() as object;
    if (policy.opaque?.(o) || o instanceof DataView || o instanceof ArrayBuffer || o instanceof WeakMap || o instanceof WeakSet) continue;
    if (isTypedArray(o)) {
      const prev = prevCopy.get(o);
      if (prev && sameContents(prev, o)) {
        saved.push({ k: 't', o, copy: prev });
      } else {
        saved.push({ k: 't', o, copy: o.slice() });
        bytes += o.byteLength + RECORD_BYTES;
      }
    } else if (Array.isArray(o)) {
      const vals = o.slice();
      for (const x of vals) visit(x);
      saved.push({ k: 'a', o, vals });
      bytes += RECORD_BYTES + vals.length * SLOT_BYTES;
    } else if (o instanceof Map) {
      const entries: unknown[] = [];
      for (const [k, x] of o) { entries.push(k, x); visit(k); visit(x); }
      saved.push({ k: 'm', o, entries });
      bytes += RECORD_BYTES + entries.length * SLOT_BYTES;
    } else if (o instanceof Set) {
      const vals = [...o];
      for (const x of vals) visit(x);
      saved.push({ k: 's', o, vals });
      bytes += RECORD_BYTES + vals.length * SLOT_BYTES;
    } else {
      const rec = o as Record<string, unknown>;
      const keys: string[] = [];
      const vals: unknown[] = [];
      for (const key of Object.keys(rec)) {
        if (policy.keep.has(key)) continue;
        const x = rec[key];
        if (typeof x === 'function') continue;
        keys.push(key);
        vals.push(x);
        if (!policy.refOnly.has(key)) visit(x);
      }
      saved.push({ k: 'o', o: rec, keys, vals });
      bytes += RECORD_BYTES + keys.length * 2 * SLOT_BYTES;
    }
  }
  return { saved, bytes };
}

/** Write a snapshot's values back into the objects it was taken from. */
export function restoreState(snap: StateSnapshot): void {
  for (const s of snap.saved) {
    switch (s.k) {
      case 'o':
        for (let i = 0; i < s.keys.length; i++) s.o[s.keys[i]] = s.vals[i];
        break;
      case 'a':
        s.o.length = s.vals.length;
        for (let i = 0; i < s.vals.length; i++) s.o[i] = s.vals[i];
        break;
      case 't':
        (s.o as Uint8Array).set(s.copy as Uint8Array);
        break;
      case 'm':
        s.o.clear();
        for (let i = 0; i < s.entries.length; i += 2) s.o.set(s.entries[i], s.entries[i + 1]);
        break;
      case 's':
        s.o.clear();
        for (const v of s.vals) s.o.add(v);
        break;
    }
  }
}
