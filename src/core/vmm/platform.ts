/**
 * Exits the VMM handles without instruction emulation (SDM Vol. 3C Appendix C reasons): HLT,
 * port I/O, CPUID, RDMSR/WRMSR, VMCALL, the interrupt window and a triple fault. The exit itself carries what
 * the VMM needs (port, size and value; the MSR and EDX:EAX), so nothing is walked, fetched or
 * decoded: one 'exit' stage and one 'device' or 'emulate' stage, charged from the cost model.
 *
 * What the scheduler does next (wait in HLT, stop the vCPU, inject the pending interrupt) is
 * returned in `next`; the machine owns the run states.
 */
import { chargeCycles, type CostModel, type CostUnits } from '../cost';
import type { Vcpu, VmExit } from '../cpu/vcpu';
import type { DebugConsole } from '../devices/console';
import { LocalApic } from '../devices/lapic';
import type { ExitEvent, ExitReason } from '../events';
import { DEBUG_PORT, MSRS } from '../guestAbi';
import { hex } from '../hex';

/** The vCPU an exit came from, with what it talks to. */
export interface PlatformVcpu {
  vmId: number;
  /** vCPU index inside its VM. */
  index: number;
  vcpu: Vcpu;
  lapic: LocalApic;
}

/**
 * After a platform exit: 'resume' the vCPU; HLT with IF = 1 'wait's for an interrupt, with
 * IF = 0 'stop's this vCPU; 'inject' delivers the pending interrupt the window opened for;
 * 'suspend' ends the VM's run (a triple fault), whatever its other vCPUs were doing.
 */
export type PlatformNext = 'resume' | 'wait' | 'stop' | 'inject' | 'suspend';

export interface PlatformResult {
  /** The exit as recorded (seq is the caller's to set). */
  event: ExitEvent;
  next: PlatformNext;
}

/** How an exit detail names an intercepted MSR: `x2APIC ICR (0x830)`, `IA32_APIC_BASE (0x1b)`. */
function msrName(msr: number): string {
  const n = hex(msr);
  if (msr === MSRS.MSR_APIC_BASE) return `IA32_APIC_BASE (${n})`;
  if (msr === MSRS.MSR_TSC_DEADLINE) return `IA32_TSC_DEADLINE (${n})`;
  const reg = LocalApic.x2apicRegisterName(msr);
  return reg === null ? n : `x2APIC ${reg} (${n})`;
}

/**
 * Handle one platform exit of `on` (the debug console is the only port device); RIP moves past
 * the instruction unless it faults. Charges go into `units` as well (cost.ts chargeCycles).
 */
export function platformExit(
  on: PlatformVcpu, exit: VmExit, console: DebugConsole, cost: Readonly<CostModel>, units?: CostUnits,
): PlatformResult {
  const { vcpu, lapic } = on;
  const stages: ExitEvent['stages'] = [{ name: 'exit', cycles: chargeCycles('exit', 1, cost, units) }];
  let next: PlatformNext = 'resume';
  let detail = '';
  switch (exit.reason) {
    case 'hlt': {
      vcpu.rip = exit.rip + exit.insnLength;
      const ifSet = (vcpu.getRflags() & 0x200) !== 0;
      next = ifSet ? 'wait' : 'stop';
      detail = ifSet ? 'wait for an interrupt' : 'IF = 0: this vCPU stops';
      break;
    }
    case 'io': {
      if (exit.ioString) {
        // INS/OUTS: one element per exit (fault-like); the vCPU stores an INS element at
        // [RDI], steps RSI/RDI, counts RCX down and moves RIP past the instruction at the end.
        const what = `${exit.ioRep ? 'rep ' : ''}${exit.ioIn ? 'ins' : 'outs'} port ${hex(exit.port)}`;
        if (exit.ioIn) {
          // No device behind any port: reads float high, as on an empty ISA bus.
          vcpu.completeStringIo(exit, exit.ioSize === 4 ? 0xffff_ffff : (1 << (exit.ioSize * 8)) - 1);
          detail = `${what}: no device`;
        } else {
          if (exit.port === DEBUG_PORT) console.out(DEBUG_PORT, exit.ioValue & 0xff);
          vcpu.completeStringIo(exit);
          detail = exit.port === DEBUG_PORT ? `${what}: debug console` : `${what}: no device`;
        }
        stages.push({ name: 'device', cycles: chargeCycles('emulate', 1, cost, units), detail });
        break;
      }
      if (!exit.ioIn && exit.port === DEBUG_PORT) {
        console.out(DEBUG_PORT, exit.ioValue & 0xff);
        detail = 'debug console';
      } else if (exit.ioIn) {
        // No device behind other ports: reads float high, as on an empty ISA bus.
        const mask = exit.ioSize === 4 ? 0xffff_ffffn : BigInt((1 << (exit.ioSize * 8)) - 1);
        const rax = vcpu.getGpr(0);
        vcpu.setGpr(0, exit.ioSize === 4 ? mask : (rax & ~mask) | mask);
        detail = `in port ${hex(exit.port)}: no device`;
      } else {
        detail = `out port ${hex(exit.port)}: no device`;
      }
      stages.push({ name: 'device', cycles: chargeCycles('emulate', 1, cost, units), detail });
      vcpu.rip = exit.rip + exit.insnLength;
      break;
    }
    case 'cpuid': {
      vcpu.emulateCpuid();
      stages.push({ name: 'emulate', cycles: chargeCycles('emulate', 1, cost, units), detail: 'cpuid' });
      vcpu.rip = exit.rip + exit.insnLength;
      break;
    }
    case 'rdmsr':
    case 'wrmsr': {
      // The MSR is in the guest's RCX and, for WRMSR, the value in EDX:EAX, saved at the exit:
      // nothing to walk, fetch or decode (bhyve vmx_exit_process -> lapic_rdmsr/lapic_wrmsr).
      const ecx = exit.msr;
      const name = msrName(ecx);
      if (exit.reason === 'rdmsr') {
        const v = lapic.readMsr(ecx);
        if (v === null) {
          vcpu.injectException(13, 0);
          detail = `rdmsr ${name}: #GP`;
        } else {
          vcpu.setGpr(0, v & 0xffff_ffffn);
          vcpu.setGpr(2, v >> 32n);
          vcpu.rip = exit.rip + exit.insnLength;
          detail = `rdmsr ${name} = 0x${v.toString(16)}`;
        }
      } else {
        const v = ((vcpu.getGpr(2) & 0xffff_ffffn) << 32n) | (vcpu.getGpr(0) & 0xffff_ffffn);
        if (!lapic.writeMsr(ecx, v)) {
          vcpu.injectException(13, 0);
          detail = `wrmsr ${name} <- 0x${v.toString(16)}: #GP`;
        } else {
          vcpu.rip = exit.rip + exit.insnLength;
          detail = `wrmsr ${name} <- 0x${v.toString(16)}`;
        }
      }
      stages.push({ name: 'emulate', cycles: chargeCycles('emulate', 1, cost, units), detail });
      break;
    }
    case 'vmcall':
      // No hypercalls are defined: return -1 (KVM returns -KVM_ENOSYS) and go on.
      vcpu.setGpr(0, 0xffff_ffff_ffff_ffffn);
      vcpu.rip = exit.rip + exit.insnLength;
      stages.push({ name: 'emulate', cycles: chargeCycles('emulate', 1, cost, units), detail: 'vmcall: no hypercall, rax = -1' });
      break;
    case 'interrupt-window':
      vcpu.requestInterruptWindow = false;
      next = 'inject';
      stages.push({ name: 'device', cycles: chargeCycles('injectInterrupt', 1, cost, units), detail: 'inject the pending interrupt' });
      break;
    case 'external-interrupt':
      // The LAPIC timer's kick (Machine.kickedByTimer): the host takes its interrupt and the
      // VMM resumes the guest; the timer's interrupt is injected at that VM entry (charged there).
      // RIP stays: no guest instruction caused the exit.
      stages[0].detail = 'the LAPIC timer fired: the vCPU was kicked out';
      break;
    case 'triple-fault':
      // SDM Vol. 3C §26.2 (basic reason 2, Appendix C); bhyve's vmx_exit_process suspends the
      // VM (VM_SUSPEND_TRIPLEFAULT): nothing to emulate, the machine ends the run.
      next = 'suspend';
      break;
    default:
      stages.push({ name: 'device', cycles: 0, detail: exit.reason });
  }
  let cycles = 0;
  for (const s of stages) cycles += s.cycles;
  const event: ExitEvent = {
    seq: 0,
    vm: on.vmId,
    vcpu: on.index,
    reason: exit.reason as ExitReason,
    rip: exit.rip,
    cr3: vcpu.cr3,
    retired: vcpu.retired,
    stages,
    cycles,
    insn: exit.insnText || undefined,
  };
  return { event, next };
}
