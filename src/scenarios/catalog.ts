/**
 * Scenario metadata lives in each .s file's header comments, so a scenario is one file a
 * person can read, edit and share:
 *   ; title: ...            shown in the gallery
 *   ; watch: ...            what to watch while it runs
 *   ; seed: ...             the seed's figure, where one applies
 *   ; exitscope: vms=2 vcpus=2   machine topology (src/core/topology.ts)
 */
import { headerField } from '../core/topology';

export interface Scenario {
  name: string;
  title: string;
  watch: string;
  seedFigure?: string;
  source: string;
}

export function parseScenario(name: string, source: string): Scenario {
  return {
    name,
    title: headerField(source, 'title') ?? name,
    watch: headerField(source, 'watch') ?? '',
    seedFigure: headerField(source, 'seed'),
    source,
  };
}

/** Gallery order: the seed's headline case first, then the cases it found no gain in, then the corner cases. */
export const SCENARIO_ORDER = [
  'lapic-microbench', 'cpu-bound-timer', 'syscall-loop', 'memory-copy', 'boot-cold-path',
  'smc-mmio', 'pt-remap', 'smc-then-remap', 'two-address-spaces', 'two-vms', 'ipi-pingpong', 'x2apic-msr',
  'lapic-read-once', 'large-pages', 'straddle', 'two-vms-two-cr3',
];

export function sortScenarios(list: Scenario[]): Scenario[] {
  const rank = (n: string) => {
    const i = SCENARIO_ORDER.indexOf(n);
    return i < 0 ? SCENARIO_ORDER.length : i;
  };
  return [...list].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}
