/**
 * The machine topology a program asks for, and the header comments it is read from:
 *   ; exitscope: vms=2 vcpus=2   (default 1 VM with 1 vCPU); `ept=2m` maps RAM above 2 MiB
 *                                with 2 MiB EPT leaves
 */
export interface Topology {
  vms: number;
  vcpusPerVm: number;
  /** `ept=2m`: the EPT maps RAM above 2 MiB with 2 MiB leaves (firmware.ts buildEpt). */
  eptLargePages?: boolean;
}

const MAX_VMS = 2;
const MAX_VCPUS = 2;

/** The value of a `; key: value` header comment line, trimmed. */
export function headerField(source: string, key: string): string | undefined {
  const m = new RegExp(`^;\\s*${key}:\\s*(.+)$`, 'm').exec(source);
  return m ? m[1].trim() : undefined;
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
