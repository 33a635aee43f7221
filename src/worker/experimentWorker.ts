/// <reference lib="webworker" />
// The experiment's Worker (the page's own, apart from the machine's): runs jobs with
// runExperimentJob. The core (iced-x86) loads with top-level await: jobs that arrive first
// wait for it. The page cancels a job by terminating the Worker.
import type { ExperimentEvent, ExperimentJob } from './experimentProtocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (e: ExperimentEvent) => scope.postMessage(e);
const pending: ExperimentJob[] = [];
let handle: ((job: ExperimentJob) => void) | null = null;
scope.onmessage = (e: MessageEvent<ExperimentJob>) => (handle ? handle(e.data) : pending.push(e.data));

Promise.all([import('./experimentJob'), import('../scenarios')]).then(
  ([{ runExperimentJob }, { SCENARIOS }]) => {
    handle = (job) => { runExperimentJob(job, SCENARIOS, post); };
    for (const job of pending.splice(0)) handle(job);
  },
  (e: unknown) => post({ type: 'error', message: `the experiment failed to load: ${e instanceof Error ? e.message : String(e)}` }),
);
