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
  /**
   * Typed-array fields whose owner counts their writes: field name -> the owner's counter
   * field (one that moves on every write to the array). While no restore happened since the
   * previous snapshot (`CaptureOptions.unchangedIfSameVersion`), an array whose counter has not
   * moved since that snapshot shares its copy without comparing its contents: the EPT's
   * 256 KiB of table memory costs nothing at a checkpoint where nothing was protected.
   */
  versions?: ReadonlyMap<string, string>;
}

export interface CaptureOptions {
  /**
   * Nothing was restored since `previous` was captured, so a `versions` counter that did not
   * move means an unchanged array (a restore writes arrays back without moving counters).
   */
  unchangedIfSameVersion?: boolean;
}

type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/**
 * One object's saved contents. Kinds: fields of an object, elements of an array or typed array,
 * Map and Set entries. The arrays a record holds (`keys`, `vals`, `entries`, `copy`) are never
 * written after the capture, so a record whose object did not change since the previous
 * snapshot shares them with that snapshot's record instead of holding copies of its own.
 */
type Saved =
  | { k: 'o'; o: Record<string, unknown>; keys: string[]; vals: unknown[] }
  | { k: 'a'; o: unknown[]; vals: unknown[] }
  | { k: 't'; o: TypedArray; copy: TypedArray; version: number | undefined }
  | { k: 'm'; o: Map<unknown, unknown>; entries: unknown[] }
  | { k: 's'; o: Set<unknown>; vals: unknown[] };

/** An array or typed-array copy a snapshot holds, possibly shared with other snapshots. */
export type Payload = readonly unknown[] | TypedArray;

export interface StateSnapshot {
  readonly saved: readonly Saved[];
  /** Bytes of the records themselves (never shared). */
  readonly ownBytes: number;
  /**
   * The arrays the records hold, each once. Several snapshots may hold the same payload:
   * whoever keeps snapshots counts each payload once (PayloadCounter).
   */
  readonly payloads: readonly Payload[];
}

/*
 * Byte estimates of V8 heap objects on a 64-bit build with pointer compression off (the
 * conservative case): a JS object or array header is 3 words plus its fields; an array's
 * elements live in a FixedArray (2 words of header, 1 word per element); a number that is not
 * a small integer is boxed (a HeapNumber: 2 words); a typed array is a JSTypedArray and a
 * JSArrayBuffer (about 22 words together) plus its bytes. The benchmark (npm run
 * bench:timetravel, --expose-gc) compares the sum with the heap's growth.
 */
const WORD = 8;
/** A Saved record: header + 4 fields. */
const RECORD_BYTES = 7 * WORD;
/** An array with its elements store, before the elements. */
const ARRAY_BYTES = 5 * WORD;
const HEAP_NUMBER_BYTES = 2 * WORD;
/** A StateSnapshot and the timeline's record of it. */
const SNAPSHOT_BYTES = 12 * WORD;
const TYPED_ARRAY_BYTES = 22 * WORD;

function valueBytes(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= -(2 ** 30) && v < 2 ** 30 ? WORD : WORD + HEAP_NUMBER_BYTES;
  if (typeof v === 'bigint') return WORD + 3 * WORD;
  return WORD;
}

function arrayBytes(a: readonly unknown[]): number {
  let n = ARRAY_BYTES;
  for (let i = 0; i < a.length; i++) n += valueBytes(a[i]);
  return n;
}

/** Bytes one payload holds (it never changes after the capture, so this is the same each time). */
function payloadBytes(p: Payload): number {
  return isTypedArray(p as object) ? TYPED_ARRAY_BYTES + (p as TypedArray).byteLength : arrayBytes(p as readonly unknown[]);
}

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

/** The same elements, compared with Object.is (so NaN equals NaN and 0 differs from -0). */
function sameElements(a: readonly unknown[] | undefined, b: readonly unknown[]): a is readonly unknown[] {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const EMPTY: readonly unknown[] = [];
/** What captureState does with a field, by name (see CapturePolicy). */
const VISIT = 0, KEEP = 1, REF_ONLY = 2, VERSIONED = 3;
type FieldKind = typeof VISIT | typeof KEEP | typeof REF_ONLY | typeof VERSIONED;
/** Per policy, each field name's kind, learnt as names are met: one lookup per field instead of three. */
const kindsByPolicy = new WeakMap<CapturePolicy, Map<string, FieldKind>>();

function fieldKinds(policy: CapturePolicy): Map<string, FieldKind> {
  let kinds = kindsByPolicy.get(policy);
  if (!kinds) kindsByPolicy.set(policy, (kinds = new Map()));
  return kinds;
}

function kindOf(policy: CapturePolicy, kinds: Map<string, FieldKind>, key: string): FieldKind {
  const kind = policy.keep.has(key) ? KEEP : policy.refOnly.has(key) ? REF_ONLY : policy.versions?.has(key) ? VERSIONED : VISIT;
  kinds.set(key, kind);
  return kind;
}

/**
 * Save the state reachable from `roots`. `previous` (the last snapshot of the same graph) lets
 * an object that did not change share that snapshot's arrays instead of new copies.
 */
export function captureState(roots: readonly object[], policy: CapturePolicy, previous?: StateSnapshot, opts: CaptureOptions = {}): StateSnapshot {
  const saved: Saved[] = [];
  /** Typed arrays with a write counter (policy.versions), and its value now. */
  const versionOf = new Map<object, number>();
  const trustVersions = opts.unchangedIfSameVersion === true;
  const kinds = fieldKinds(policy);
  const seen = new Set<object>();
  const prev = new Map<object, Saved>();
  if (previous) for (const s of previous.saved) prev.set(s.o, s);
  const payloads: Payload[] = [];
  /**
   * The previous snapshot's array when it has the same elements, else a copy of `built` at its
   * exact length (an array grown by push keeps up to half its length again as spare room).
   */
  const share = (old: readonly unknown[] | undefined, built: unknown[]): unknown[] => {
    const a = sameElements(old, built) ? (old as unknown[]) : built.slice();
    payloads.push(a);
    return a;
  };
  const stack: object[] = [];
  const visit = (v: unknown) => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    stack.push(v);
  };
  for (const r of roots) visit(r);
  while (stack.length > 0) {
    const o = stack.pop() as object;
    const was = prev.get(o);
    // What the previous snapshot saved was traversable then and is now (identities keep their kind).
    if (was === undefined && (policy.opaque?.(o) || o instanceof DataView || o instanceof ArrayBuffer || o instanceof WeakMap || o instanceof WeakSet)) continue;
    if (isTypedArray(o)) {
      const version = versionOf.get(o);
      const same = was?.k === 't' && ((trustVersions && version !== undefined && was.version === version) || sameContents(was.copy, o));
      const copy = same ? (was as { copy: TypedArray }).copy : o.slice();
      saved.push({ k: 't', o, copy, version });
      payloads.push(copy);
    } else if (Array.isArray(o)) {
      const vals = share(was?.k === 'a' ? was.vals : undefined, o);
      for (const x of vals) visit(x);
      saved.push({ k: 'a', o, vals });
    } else if (o instanceof Map) {
      const fresh: unknown[] = [];
      for (const [k, x] of o) { fresh.push(k, x); visit(k); visit(x); }
      saved.push({ k: 'm', o, entries: share(was?.k === 'm' ? was.entries : undefined, fresh) });
    } else if (o instanceof Set) {
      const vals = share(was?.k === 's' ? was.vals : undefined, [...o]);
      for (const x of vals) visit(x);
      saved.push({ k: 's', o, vals });
    } else {
      // Fields are read into `keys`/`vals` only from the first one that differs from the
      // previous record: an object that did not change allocates nothing and shares both.
      const rec = o as Record<string, unknown>;
      const old = was?.k === 'o' ? was : undefined;
      const oldKeys = old?.keys ?? EMPTY;
      const oldVals = old?.vals ?? EMPTY;
      let keys: string[] | null = old ? null : [];
      let vals: unknown[] | null = old ? null : [];
      let n = 0;
      for (const key of Object.keys(rec)) {
        const kind = kinds.get(key) ?? kindOf(policy, kinds, key);
        if (kind === KEEP) continue;
        const x = rec[key];
        if (typeof x === 'function') continue;
        if (keys === null && (n >= oldKeys.length || oldKeys[n] !== key)) keys = oldKeys.slice(0, n) as string[];
        if (keys !== null) keys.push(key);
        if (vals === null && (n >= oldVals.length || !Object.is(oldVals[n], x))) vals = oldVals.slice(0, n);
        if (vals !== null) vals.push(x);
        n++;
        if (kind === REF_ONLY) continue;
        if (kind === VERSIONED) {
          const counter = rec[policy.versions!.get(key)!];
          if (typeof x === 'object' && x !== null && typeof counter === 'number') versionOf.set(x, counter);
        }
        visit(x);
      }
      if (keys === null && n < oldKeys.length) keys = oldKeys.slice(0, n) as string[];
      if (vals === null && n < oldVals.length) vals = oldVals.slice(0, n);
      // A new list is kept at its exact length (one grown by push has spare room).
      const savedKeys = keys === null ? (oldKeys as string[]) : keys.slice();
      const savedVals = vals === null ? (oldVals as unknown[]) : vals.slice();
      payloads.push(savedKeys, savedVals);
      saved.push({ k: 'o', o: rec, keys: savedKeys, vals: savedVals });
    }
  }
  // The two lists at their exact lengths. The snapshot's own bytes: its records, the lists, itself.
  const own = saved.slice();
  const held = payloads.slice();
  return { saved: own, ownBytes: 2 * ARRAY_BYTES + own.length * (RECORD_BYTES + WORD) + held.length * WORD + SNAPSHOT_BYTES, payloads: held };
}

/**
 * Counts the bytes of the payloads held by a set of snapshots, each shared payload once:
 * `add` a snapshot when it is kept, `remove` it when it goes.
 */
export class PayloadCounter {
  private readonly holders = new Map<Payload, number>();
  bytes = 0;

  add(s: StateSnapshot): void {
    this.bytes += s.ownBytes;
    for (let i = 0; i < s.payloads.length; i++) {
      const p = s.payloads[i];
      const n = this.holders.get(p) ?? 0;
      if (n === 0) this.bytes += payloadBytes(p);
      this.holders.set(p, n + 1);
    }
  }

  remove(s: StateSnapshot): void {
    this.bytes -= s.ownBytes;
    for (let i = 0; i < s.payloads.length; i++) {
      const p = s.payloads[i];
      const n = this.holders.get(p) ?? 0;
      if (n <= 1) {
        this.holders.delete(p);
        this.bytes -= payloadBytes(p);
      } else {
        this.holders.set(p, n - 1);
      }
    }
  }

  /** The counter's own map: one entry per payload held. */
  get overheadBytes(): number {
    return this.holders.size * 4 * WORD;
  }
}

/**
 * Write a snapshot's values back into the objects it was taken from. A field or element that
 * holds its value already is not written: V8 tracks fields written once as constants (and
 * arrays by the kinds of their elements), and a store, even of the same value, made it
 * generalize them and throw away the machine's optimized code (the first seeks after a run
 * re-ran exits 10-20x slower until V8 had recompiled it).
 */
export function restoreState(snap: StateSnapshot): void {
  for (const s of snap.saved) {
    switch (s.k) {
      case 'o': {
        const o = s.o;
        for (let i = 0; i < s.keys.length; i++) {
          const key = s.keys[i];
          const v = s.vals[i];
          if (!Object.is(o[key], v)) o[key] = v;
        }
        break;
      }
      case 'a': {
        // Grown by push, not by setting its length: a longer length leaves holes, and a holey
        // array has another map.
        const a = s.o;
        const v = s.vals;
        if (a.length > v.length) a.length = v.length;
        const kept = a.length;
        for (let i = 0; i < kept; i++) if (!Object.is(a[i], v[i])) a[i] = v[i];
        for (let i = kept; i < v.length; i++) a.push(v[i]);
        break;
      }
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
