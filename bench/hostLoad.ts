/**
 * How much work competed for the CPU while a bench ran: Linux's pressure stall information
 * (PSI, Documentation/accounting/psi.rst), the share of time in which some runnable task waited
 * for a CPU ("some", averaged over the last 10 s), read once a second. That counts the bench's
 * own processes too (a browser, its Worker and a server on 2 cores: ~40 %), so the minute before
 * the bench began ("some avg60" at its start) is given apart: the other tenants' load alone. On
 * a shared machine the same build's timings move with it, so the figures carry it. Null where
 * the kernel has no PSI (not Linux, or CONFIG_PSI off).
 */
import { readFileSync } from 'node:fs';
import { median } from './median';

export interface HostLoad {
  /** Samples of "some avg10" (%) taken, one a second. */
  samples: number;
  medianPct: number;
  maxPct: number;
  /** "some avg60" (%) as the bench began: the minute before it, without its own load. */
  beforePct: number | null;
}

/**
 * "some avg10=12.34 avg60=56.78 avg300=… total=…" → 12.34 for `window` 10, 56.78 for 60; null
 * without PSI.
 */
export function cpuPressureSome(text: string, window: 10 | 60): number | null {
  const m = /^some avg10=([\d.]+) avg60=([\d.]+)/m.exec(text);
  return m ? Number(m[window === 10 ? 1 : 2]) : null;
}

function readPressure(window: 10 | 60): number | null {
  try {
    return cpuPressureSome(readFileSync('/proc/pressure/cpu', 'utf8'), window);
  } catch {
    return null;
  }
}

/** Starts sampling; `stop` ends it and sums it up (null when nothing could be read). */
export function watchHostLoad(everyMs = 1000): { stop(): HostLoad | null } {
  const xs: number[] = [];
  const before = readPressure(60);
  const take = () => {
    const v = readPressure(10);
    if (v !== null) xs.push(v);
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      take();
      if (xs.length === 0) return null;
      return { samples: xs.length, medianPct: Number(median(xs).toFixed(1)), maxPct: Number(Math.max(...xs).toFixed(1)), beforePct: before };
    },
  };
}
