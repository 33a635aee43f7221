/**
 * Scenario metadata lives in each .s file's header comments, so a scenario is one file a
 * person can read, edit and share:
 *   ; title: ...            shown in the gallery
 *   ; watch: ...            what to watch while it runs
 *   ; seed: ...             the seed's figure, where one applies
 *   ; exitscope: vms=2 vcpus=2   machine topology (default 1 VM with 1 vCPU); `ept=2m` maps
 *                                RAM above 2 MiB with 2 MiB EPT leaves
 */
export interface Topology {
  vms: number;
  vcpusPerVm: number;
  /** `ept=2m`: the EPT maps RAM above 2 MiB with 2 MiB leaves (firmware.ts buildEpt). */
  eptLargePages?: boolean;
}

export interface Scenario {
  name: string;
  title: string;
  watch: string;
  seedFigure?: string;
  source: string;
}

const MAX_VMS = 2;
const MAX_VCPUS = 2;

function headerField(source: string, key: string): string | undefined {
  const m = new RegExp(`^;\\s*${key}:\\s*(.+)$`, 'm').exec(source);
  return m ? m[1].trim() : undefined;
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

/** The topology a program asks for with `; exitscope: vms=N vcpus=M`, clamped to what the machine hosts. */
export function parseTopology(source: string): Topology {
  const line = headerField(source, 'exitscope') ?? '';
  const num = (key: string, max: number) => {
    const m = new RegExp(`\\b${key}=(\\d+)`).exec(line);
    return m ? Math.min(max, Math.max(1, Number(m[1]))) : 1;
  };
  const topology: Topology = { vms: num('vms', MAX_VMS), vcpusPerVm: num('vcpus', MAX_VCPUS) };
  if (/\bept=2m\b/.test(line)) topology.eptLargePages = true;
  return topology;
}

/** Gallery order: the seed's headline case first, then the cases it found no gain in, then the corner cases. */
export const SCENARIO_ORDER = [
  'lapic-microbench', 'cpu-bound-timer', 'syscall-loop', 'memory-copy', 'boot-cold-path',
  'smc-mmio', 'pt-remap', 'two-address-spaces', 'two-vms', 'ipi-pingpong', 'x2apic-msr',
  'lapic-read-once', 'large-pages', 'straddle', 'two-vms-two-cr3',
];

export function sortScenarios(list: Scenario[]): Scenario[] {
  const rank = (n: string) => {
    const i = SCENARIO_ORDER.indexOf(n);
    return i < 0 ? SCENARIO_ORDER.length : i;
  };
  return [...list].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}
