/**
 * Messages above the workspace: the worker's health and runaway banners (per side), and the
 * page's notices (share links, files, restored drafts).
 */
import { useSyncExternalStore } from 'react';
import { useMachineStore, MachineStoreContext } from '../store/machineStore';
import { useUiStore, type Notice } from '../store/uiStore';
import * as ctl from './controller';
import { restorePreviousDraft } from './files';

function MachineMessages({ label }: { label: string }) {
  const error = useMachineStore((s) => s.error);
  const workerStatus = useMachineStore((s) => s.workerStatus);
  const banner = useMachineStore((s) => s.banner);
  const failed = workerStatus === 'crashed' || workerStatus === 'unresponsive';
  return (
    <>
      {error && (
        <div className="notice error" role="alert" data-testid={failed ? 'worker-crash' : 'machine-error'}>
          <span>{label}{error}</span>
          {failed && <button type="button" className="btn small" onClick={ctl.reset}>Reset</button>}
        </div>
      )}
      {banner && !error && (
        <div className="notice warn" role="status" data-testid="runaway-banner">
          <span>{label}{banner}</span>
        </div>
      )}
    </>
  );
}

function NoticeRow({ n }: { n: Notice }) {
  const dismiss = () => useUiStore.getState().dismiss(n.id);
  return (
    <div className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'} data-testid={n.kind === 'error' ? 'notice-error' : 'notice'}>
      <span>{n.text}</span>
      {n.link && (
        <input className="share-link" data-testid="share-link" readOnly value={n.link} onFocus={(e) => e.currentTarget.select()} aria-label="Share link" />
      )}
      {n.restoreDraft && (
        <button type="button" className="btn small" data-testid="restore-draft" onClick={() => { restorePreviousDraft(); dismiss(); }}>
          Restore my draft
        </button>
      )}
      <button type="button" className="close" aria-label="Dismiss" onClick={dismiss}>×</button>
    </div>
  );
}

export function Notices() {
  const notices = useUiStore((s) => s.notices);
  const b = useSyncExternalStore(ctl.subscribeSides, ctl.sideB);
  return (
    <div className="notices">
      <MachineMessages label={b ? 'A: ' : ''} />
      {b && (
        <MachineStoreContext.Provider value={b.store}>
          <MachineMessages label="B: " />
        </MachineStoreContext.Provider>
      )}
      {notices.map((n) => <NoticeRow key={n.id} n={n} />)}
    </div>
  );
}
