import { describe, expect, it } from 'vitest';
import { EXIT_REASONS } from '../../core/events';
import { EXIT_REASON_TERMS, GLOSSARY, glossaryEntry, lapicRegisterTerm, PANEL_TERMS, PIPELINE_NODE_TERMS } from './terms';

describe('glossary', () => {
  it('explains every term the issue names, each in a short definition with where it shows up', () => {
    for (const t of ['VM exit', 'VMCS/VMCB', 'EPT', 'GLA', 'GPA', 'HPA', 'gla2gpa', '2D walk', 'TLB', 'struct vie', 'decode assist',
      'APICv', 'TPR', 'EOI', 'ICR', 'write-protect fault', 'CR3']) {
      expect(glossaryEntry(t), t).toBeDefined();
    }
    for (const t of GLOSSARY) {
      expect(t.definition.split(/\.\s/).length, t.term).toBeLessThanOrEqual(3);
      expect(t.where.length, t.term).toBeGreaterThan(10);
    }
    expect(new Set(GLOSSARY.map((t) => t.term.toLowerCase())).size).toBe(GLOSSARY.length);
  });

  it('has an entry for every term the panels, the pipeline, the event log and the LAPIC table mark', () => {
    for (const t of [...Object.values(PANEL_TERMS), ...Object.values(PIPELINE_NODE_TERMS)]) expect(glossaryEntry(t), t).toBeDefined();
    for (const r of EXIT_REASONS) expect(glossaryEntry(EXIT_REASON_TERMS[r]), r).toBeDefined();
    expect(['TPR', 'EOI', 'ICR_LO', 'ICR_HI', 'SVR'].map(lapicRegisterTerm)).toEqual(['TPR', 'EOI', 'ICR', 'ICR', undefined]);
    expect(glossaryEntry(' vm EXIT ')?.term).toBe('VM exit');
    expect(glossaryEntry('nonsense')).toBeUndefined();
  });
});
