/**
 * A second machine in the Worker, on a port of its own (the 'openSecondHost' message): it takes
 * Commands there and answers there, beside the machine the page shows, until `{ type: 'end' }`.
 * The page's unseen rehearsal of a first seek drives one (ui/seekRehearsal.tsx).
 */
import type { Command, ToSecondHost, WorkerEvent } from './protocol';

/** What a port must offer (a MessagePort in the Worker and in Node). */
export interface PortLike {
  postMessage(message: WorkerEvent): void;
  onmessage: ((e: MessageEvent<ToSecondHost>) => void) | null;
  close(): void;
}

/** A machine host, as MachineHost is. */
export interface HostLike {
  handle(cmd: Command): void;
  dispose(): void;
}

export function serveOnPort(port: PortLike, makeHost: (post: (e: WorkerEvent) => void) => HostLike): void {
  const host = makeHost((e) => port.postMessage(e));
  port.postMessage({ type: 'ready' }); // as worker.ts says for the first: its core has loaded
  port.onmessage = (e) => {
    if (e.data.type !== 'end') return host.handle(e.data);
    host.dispose();
    port.onmessage = null;
    port.close();
  };
}
