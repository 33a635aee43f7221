/**
 * `; exitscope: ept=2m`: the EPT maps RAM above 2 MiB with 2 MiB leaves, so each EPT walk there
 * reads 3 entries; with 2 MiB guest pages too, translating RIP takes (3+1)x(3+1)-1 = 15
 * references instead of (4+1)x(4+1)-1 = 24.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../scenarios';
import { parseTopology } from './topology';
import { buildMachine } from './machine';

describe('EPT with 2 MiB leaves (ept=2m)', () => {
  it('the header asks for it; without it the EPT keeps 4 KiB leaves', () => {
    expect(parseTopology('; exitscope: ept=2m').eptLargePages).toBe(true);
    expect(parseTopology('; exitscope: vms=2').eptLargePages).toBeUndefined();
  });

  it('large-pages: the RIP walk takes 24 references under 4 KiB pages, 15 under 2 MiB guest pages over 2 MiB EPT leaves', () => {
    const s = SCENARIOS.find((x) => x.name === 'large-pages')!;
    const built = buildMachine(s.source, { strategy: 'none' });
    if (!built.ok) throw new Error('does not assemble');
    const walks: { refs?: number; held?: number }[][] = [];
    built.machine.onExit = (e) => {
      if (e.reason === 'mmio') walks.push(e.stages.filter((st) => st.name === 'walk').map(({ refs, held }) => ({ refs, held })));
    };
    built.machine.runToEnd();
    expect(built.machine.consoleText()).toBe('ok');
    // 4 + 20 and 3 + 12; a page held per guest table read and for the code page.
    expect(walks).toEqual([[{ refs: 4 }, { refs: 20, held: 5 }], [{ refs: 3 }, { refs: 12, held: 4 }]]);
  });
});
