import { describe, expect, it } from 'vitest';
import { searchForView, viewFromSearch } from './route';

describe('view route', () => {
  it('opens the page the query names and the workspace for anything else', () => {
    expect(viewFromSearch('?view=experiment')).toBe('experiment');
    expect(viewFromSearch('?example=smc-mmio&view=glossary')).toBe('glossary');
    expect(viewFromSearch('')).toBe('workspace');
    expect(viewFromSearch('?view=nonsense')).toBe('workspace');
  });

  it('writes the page into the query and keeps the other parameters', () => {
    expect(searchForView('', 'experiment')).toBe('?view=experiment');
    expect(searchForView('?example=a&view=experiment', 'workspace')).toBe('?example=a');
    expect(searchForView('?view=glossary', 'workspace')).toBe('');
    expect(viewFromSearch(searchForView('?x=1', 'glossary'))).toBe('glossary');
  });
});
