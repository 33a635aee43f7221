/**
 * The figures of a run that several views show (stats strip, pipeline, bench), computed one
 * way so that one name always means one number. Pure.
 *
 * Two different "cycles per exit" exist and are never shown under one name:
 * - cycles per exit handled: the modeled cycles the exits themselves cost (VM exit + entry, the
 *   VMM's work, and the interrupts it injects at VM entry), divided by the exits: what one exit costs.
 * - run cycles ÷ exits: every modeled cycle of the run (guest work included) per exit: how
 *   much run there is around each exit.
 * APICv accesses the CPU virtualized without an exit are neither: they are not exits.
 */
import { exitCycles } from '../../../core/events';
import type { Counters } from '../../../worker/protocol';

/** Modeled cycles spent handling exits: the run's cycles minus guest work and virtualized APIC accesses. */
export function handlingCycles(c: Counters): number {
  return exitCycles(c).total - c.cycles.guest;
}

/** Modeled cycles one exit costs on average, or null without exits. */
export function cyclesPerExitHandled(c: Counters): number | null {
  return c.exits.total ? handlingCycles(c) / c.exits.total : null;
}

/** All modeled cycles of the run divided by its exits, or null without exits. */
export function runCyclesPerExit(c: Counters): number | null {
  return c.exits.total ? c.cycles.total / c.exits.total : null;
}

/** Share of the run's modeled cycles spent handling exits, or null before any cycle. */
export function exitShare(c: Counters): number | null {
  return c.cycles.total ? handlingCycles(c) / c.cycles.total : null;
}

/** Instruction-cache hits per lookup, or null when nothing was looked up (no rate to show). */
export function hitRate(c: Counters): number | null {
  const lookups = c.icache.hits + c.icache.misses;
  return lookups ? c.icache.hits / lookups : null;
}
