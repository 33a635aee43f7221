/// <reference lib="webworker" />
// The Worker entry sets its message handler synchronously: iced-x86 loads with top-level await,
// and a module Worker drops messages that arrive before its handler exists. Commands that
// arrive while the core is loading are queued and replayed in order.
import type { ToWorker, WorkerEvent } from './protocol';
import { serveOnPort } from './secondHost';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (e: WorkerEvent) => scope.postMessage(e);
const pending: ToWorker[] = [];
let handle: ((c: ToWorker) => void) | null = null;
scope.onmessage = (e: MessageEvent<ToWorker>) => (handle ? handle(e.data) : pending.push(e.data));

import('./host').then(
  ({ MachineHost }) => {
    const host = new MachineHost(post);
    handle = (c) => (c.type === 'openSecondHost' ? serveOnPort(c.port, (p) => new MachineHost(p)) : host.handle(c));
    post({ type: 'ready' });
    for (const c of pending.splice(0)) handle(c);
  },
  (e: unknown) => post({ type: 'error', message: `the machine failed to load: ${e instanceof Error ? e.message : String(e)}` }),
);
