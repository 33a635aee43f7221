import { describe, expect, it } from 'vitest';
import { createMachineStore, type MachineState, type MachineStore } from '../store/machineStore';
import { MachineClient, type WorkerLike } from './machineClient';
import { MachineHost } from '../worker/host';
import type { RunConfig, ToWorker } from '../worker/protocol';
import { serveOnPort } from '../worker/secondHost';

const LOOP = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 50\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  dec ecx\n  jnz .l\n  hlt\n';
const CONFIG: RunConfig = { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 };

/** The page's Worker, in this thread: its own machine, and a second on any port it is given (as worker.ts). */
class PageWorker implements WorkerLike {
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  onmessageerror: ((e: MessageEvent) => void) | null = null;
  readonly host = new MachineHost((e) => setTimeout(() => this.onmessage?.({ data: structuredClone(e) } as MessageEvent), 0));
  readonly seconds: { disposed: boolean }[] = [];

  postMessage(m: ToWorker): void {
    if (m.type !== 'openSecondHost') { setTimeout(() => this.host.handle(structuredClone(m)), 0); return; }
    serveOnPort(m.port, (post) => {
      const host = new MachineHost(post);
      const seen = { disposed: false };
      this.seconds.push(seen);
      return { handle: (c) => host.handle(c), dispose: () => { seen.disposed = true; host.dispose(); } };
    });
  }

  terminate(): void { this.host.dispose(); }
}

async function until(store: MachineStore, ok: (s: MachineState) => boolean): Promise<void> {
  for (let i = 0; i < 5_000 && !ok(store.getState()); i++) await new Promise((r) => setTimeout(r, 1));
  expect(ok(store.getState())).toBe(true);
}

const quietTimers = { setInterval: () => 0, clearInterval: () => {} };

describe('a second machine in the page\'s Worker (openSecondHost)', () => {
  it('runs and seeks through a client and store of its own, leaves the page\'s machine alone, and ends when that client is disposed', async () => {
    const worker = new PageWorker();
    const pageStore = createMachineStore();
    const page = new MachineClient(pageStore, { createWorker: () => worker, ...quietTimers });
    page.load(LOOP, 'page.s', CONFIG);
    await until(pageStore, (s) => s.loaded);

    const second = page.openSecondHost();
    expect(second).not.toBeNull();
    const store = createMachineStore();
    const client = new MachineClient(store, { createWorker: () => second!, ...quietTimers });
    client.setSpeed('max');
    client.load(LOOP, 'second.s', CONFIG);
    client.run();
    await until(store, (s) => !s.running && s.stop?.reason === 'halted');
    // One exit per iteration, and the hlt that ends the run.
    expect(store.getState().counters?.exits.total).toBe(51);
    client.seekExit(20);
    await until(store, (s) => s.timeline?.at === 20 && s.selectedExit?.seq === 20);
    expect(store.getState().counters?.exits.total).toBe(20);

    // The page's machine did not move: loaded, not run.
    expect(pageStore.getState().counters?.exits.total ?? 0).toBe(0);
    expect(pageStore.getState().stop).toBeNull();
    expect(worker.seconds).toEqual([{ disposed: false }]);
    client.dispose();
    await new Promise((r) => setTimeout(r, 20));
    expect(worker.seconds).toEqual([{ disposed: true }]);
    page.dispose();
  });
});
