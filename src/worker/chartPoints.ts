/**
 * The charts' samples, paced by exits rather than by frames. A frame sampled the counters once
 * per 50 ms: a run of a few hundred exits ends inside one frame and charted one point, and time
 * travel to any exit before it showed no chart at all. Here the counters are taken after every
 * `stride`-th exit, the same exits in every run of the program, so the charts cut at exit k
 * show the run up to k. The stride starts at 1 and doubles when the points would pass CAPACITY
 * (every other point goes), so a 100 k-exit run keeps 128-256 evenly spaced points.
 */
import type { ChartPoint } from './protocol';

/** Most points kept before the stride doubles. */
export const CHART_POINTS_CAPACITY = 256;

export class ChartPoints {
  private points: ChartPoint[] = [];
  private stride = 1;

  /**
   * Exit number `exits` (exits handled so far) was just handled: take a point if it is on the
   * grid and past the newest point. A time-travel re-run or a snapshot fill handles exits
   * again; those are at or before the newest point (the largest multiple of the stride
   * reached), so they take none.
   */
  noteExit(exits: number, take: () => ChartPoint): void {
    if (exits % this.stride !== 0 || exits <= (this.points[this.points.length - 1]?.counters.exits.total ?? 0)) return;
    this.points.push(take());
    if (this.points.length > CHART_POINTS_CAPACITY) {
      this.stride *= 2;
      this.points = this.points.filter((p) => p.counters.exits.total % this.stride === 0);
    }
  }

  /** Running on from exit `at`: the points after it are of a future that runs again. */
  dropAfter(at: number): void {
    this.points = this.points.filter((p) => p.counters.exits.total <= at);
  }

  /** The points, and `now` (the machine as it stands, between two points) when it is past the newest. */
  list(now: ChartPoint): ChartPoint[] {
    const last = this.points[this.points.length - 1];
    // Past the newest point (or past nothing, before the first): something ran since.
    const ahead = now.counters.exits.total > (last?.counters.exits.total ?? 0) || now.counters.retired > (last?.counters.retired ?? 0);
    return ahead ? [...this.points, now] : this.points.slice();
  }
}
