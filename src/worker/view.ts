/**
 * The machine as the UI sees it: the Worker maps the core's reports (bigint registers, cache
 * entries, page roles, line counts) to the structured-clone-safe MachineView it sends.
 */
import { hex64 } from '../core/hex';
import type { VcpuSnapshot } from '../core/events';
import type { Machine } from '../core/machine';
import type { MachineView, VcpuView } from './protocol';

/** Cache entries sent per view; the panel shows no more. */
const MAX_ICACHE_ENTRIES = 2000;

function vcpuView(s: VcpuSnapshot<bigint>): VcpuView {
  const regs = {} as VcpuView['regs'];
  for (const [name, v] of Object.entries(s.regs) as [keyof VcpuView['regs'], bigint][]) regs[name] = hex64(v);
  return { vm: s.vm, vcpu: s.vcpu, regs, halted: s.halted, retired: s.retired, lapic: s.lapic, line: s.line };
}

export function machineView(m: Machine): MachineView {
  const entries = m.icacheEntries();
  return {
    vcpus: m.vcpuStates().map(vcpuView),
    icache: entries.slice(0, MAX_ICACHE_ENTRIES),
    buckets: m.icache.bucketOccupancy(),
    pages: m.pageRoles(entries),
    lines: m.lineStats(),
    console: m.consoleText(),
  };
}
