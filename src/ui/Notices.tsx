/**
 * Messages: the worker's health and runaway banners (per side) above the workspace, where they
 * stay while they hold; and the page's notice (share links, files, restored drafts), one at a
 * time, floating over the bottom of the editor so the panels do not move, leaving by itself
 * after a while (not while the pointer or the focus is on it).
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import { isWorkerFailed, useMachineStore, MachineStoreContext } from '../store/machineStore';
import { useUiStore, type Notice } from '../store/uiStore';
import * as ctl from './controller';
import { restorePreviousDraft } from './files';

function MachineMessages({ label }: { label: string }) {
  const error = useMachineStore((s) => s.error);
  const workerStatus = useMachineStore((s) => s.workerStatus);
  const banner = useMachineStore((s) => s.banner);
  // A run the VMM (or the emulator) could not continue, or a guest that triple-faulted: the
  // whole message, not the state tile's clipped one.
  const stop = useMachineStore((s) => (s.stop && (s.stop.reason === 'unsupported' || s.stop.reason === 'error' || s.stop.reason === 'triple-fault') ? s.stop : null));
  const failed = isWorkerFailed(workerStatus);
  return (
    <>
      {error && (
        <div className="notice error" role="alert" data-testid={failed ? 'worker-crash' : 'machine-error'}>
          <span>{label}{error}</span>
          {failed && <button type="button" className="btn small" onClick={ctl.reset}>Reset</button>}
        </div>
      )}
      {stop && !error && (
        <div className="notice error" role="alert" data-testid="stop-banner">
          <span>{label}The run stopped ({stop.reason}): {stop.message}</span>
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

/** How long a notice stays: long enough to read it, or to copy a link or press its button. */
function noticeMs(n: Notice): number {
  if (n.link || n.restoreDraft) return 12_000;
  return n.kind === 'error' ? 10_000 : 6_000;
}

function NoticeToast({ n }: { n: Notice }) {
  const dismiss = () => useUiStore.getState().dismiss(n.id);
  const [held, setHeld] = useState(false);
  useEffect(() => {
    if (held) return;
    const t = setTimeout(() => useUiStore.getState().dismiss(n.id), noticeMs(n));
    return () => clearTimeout(t);
  }, [n, held]);
  return (
    <div
      className={`notice toast ${n.kind}`}
      role={n.kind === 'error' ? 'alert' : 'status'}
      data-testid={n.kind === 'error' ? 'notice-error' : 'notice'}
      onMouseEnter={() => setHeld(true)}
      onMouseLeave={() => setHeld(false)}
      onFocus={() => setHeld(true)}
      onBlur={() => setHeld(false)}
    >
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
  const b = useSyncExternalStore(ctl.subscribeSides, ctl.sideB);
  return (
    <div className="notices">
      <MachineMessages label={b ? 'A: ' : ''} />
      {b && (
        <MachineStoreContext.Provider value={b.store}>
          <MachineMessages label="B: " />
        </MachineStoreContext.Provider>
      )}
    </div>
  );
}

/** The page's one notice, over the bottom left of the page. */
export function NoticeToasts() {
  const n = useUiStore((s) => s.notices.at(-1));
  return <div className="toasts">{n && <NoticeToast key={n.id} n={n} />}</div>;
}
