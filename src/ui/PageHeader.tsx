/** The title row of a page beside the workspace, with the way back to it. */
import type { ReactNode } from 'react';
import { useUiStore } from '../store/uiStore';
import './pages.css';

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children}
      <button type="button" className="btn ghost page-back" data-testid="btn-workspace" onClick={() => useUiStore.getState().showView('workspace')}>
        ← Back to the editor
      </button>
    </header>
  );
}
