/**
 * The timeline's readout of its recording: how far back it reaches, in how much of its memory
 * budget. Past the budget the recording thins out down to its newest snapshot alone, which
 * can still hold more (a copy of every RAM page the run wrote): then the readout says so.
 */
import { int } from './panels/lib/format';

export interface TimelineReach {
  /** The oldest exit the timeline can show. */
  first: number;
  bytes: number;
  budget: number;
}

const MiB = 1024 * 1024;
const mib = (n: number, digits = n < 10 * MiB ? 1 : 0) => (n / MiB).toFixed(digits);

export function reachReadout(t: TimelineReach): { text: string; title: string } {
  const reach = t.first > 0 ? `reaches back to exit ${int(t.first)}` : 'reaches back to the start';
  if (t.bytes > t.budget) {
    // One decimal: "64 MiB, over the 64 MiB" would read as no excess at all.
    const held = mib(t.bytes, 1);
    return {
      text: `${reach} · ${held} MiB, over the ${mib(t.budget)} MiB budget`,
      title: `Snapshots and the exit log take ${held} MiB, over the ${mib(t.budget)} MiB budget: one snapshot is left, and it holds a copy of every page of RAM this run has written.`,
    };
  }
  return {
    text: `${reach} · ${mib(t.bytes)} of ${mib(t.budget)} MiB`,
    title: `Snapshots and the exit log take ${mib(t.bytes)} MiB of a ${mib(t.budget)} MiB budget; past it, older snapshots thin out and then the oldest go.`,
  };
}
