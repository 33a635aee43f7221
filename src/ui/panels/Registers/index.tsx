/**
 * Registers per vCPU (tabs grouped by VM): GPRs, RIP, RFLAGS decoded, CR0/CR2/CR3/CR4 and EFER
 * decoded, and the local APIC's registers. Values that changed since the previous frame are
 * highlighted.
 */
import { memo, useState } from 'react';
import { GPR_NAMES } from '../../../core/events';
import type { VcpuView } from '../../../worker/protocol';
import type { MachineState } from '../../../store/machineStore';
import { useMachineLive } from '../useMachine';
import { hex } from '../lib/format';
import { lapicRegisterTerm } from '../../glossary/terms';
import { CR0_BITS, CR4_BITS, EFER_BITS, changedKeys, decodeBits, decodeRflags, groupHex, iopl, type NamedBit } from './flags';
import '../panels.css';

type RegName = keyof VcpuView['regs'];

function Bits({ bits }: { bits: NamedBit[] }) {
  return <span className="xs-bits">{bits.map((b) => <span key={b.name} className={b.on ? 'on' : 'off'} title={`${b.title} (bit ${b.bit})`}>{b.name}</span>)}</span>;
}

/** Keeps the previous frame's registers of the shown vCPU to highlight what changed. */
function useChanged(v: VcpuView): { regs: Set<RegName>; lapic: Set<string> } {
  const [memo, setMemo] = useState<{ v: VcpuView; prev: VcpuView | null }>({ v, prev: null });
  let cur = memo;
  if (memo.v !== v) {
    // A machine that started over (reset, new program: its count went back) changed nothing yet.
    const sameRun = memo.v.vm === v.vm && memo.v.vcpu === v.vcpu && v.retired > 0 && v.retired >= memo.v.retired;
    cur = { v, prev: sameRun ? memo.v : null };
    setMemo(cur);
  }
  const regs = changedKeys(cur.prev?.regs ?? null, v.regs);
  const lapic = new Set<string>();
  if (cur.prev) {
    const before = new Map(cur.prev.lapic.map((r) => [r.name, r.value]));
    for (const r of v.lapic) if (before.has(r.name) && before.get(r.name) !== r.value) lapic.add(r.name);
  }
  return { regs, lapic };
}

const VcpuRegs = memo(function VcpuRegs({ v }: { v: VcpuView }) {
  const changed = useChanged(v);
  const cls = (r: RegName) => (changed.regs.has(r) ? 'xs-changed' : undefined);
  // CR3 is a glossary term: focusable, so its definition shows on keyboard focus too.
  const name = (r: RegName) => (r === 'cr3' ? <span className="xs-reg-name" data-term="CR3" tabIndex={0}>{r}</span> : <span className="xs-reg-name">{r}</span>);
  const row = (r: RegName, extra?: React.ReactNode) => (
    <div key={r} className="xs-reg" data-reg={r}>{name(r)}<code className={cls(r)}>{groupHex(v.regs[r])}</code>{extra}</div>
  );
  return (
    <div className="xs-regs">
      <div className="xs-note">{v.halted ? 'halted' : 'not halted'} · {v.retired.toLocaleString('en-US')} instructions retired</div>
      <div className="xs-reg-grid">{GPR_NAMES.map((r) => row(r))}</div>
      <div className="xs-reg-grid xs-reg-wide">
        {row('rip')}
        {row('rflags', <><Bits bits={decodeRflags(v.regs.rflags)} /><span className="xs-note">IOPL {iopl(v.regs.rflags)}</span></>)}
        {row('cr0', <Bits bits={decodeBits(v.regs.cr0, CR0_BITS).filter((b) => b.on || ['PE', 'WP', 'PG'].includes(b.name))} />)}
        {row('cr2', <span className="xs-note">last page-fault address</span>)}
        {row('cr3', <span className="xs-note">guest page-table root</span>)}
        {row('cr4', <Bits bits={decodeBits(v.regs.cr4, CR4_BITS).filter((b) => b.on || ['PAE', 'PGE'].includes(b.name))} />)}
        {row('efer', <Bits bits={decodeBits(v.regs.efer, EFER_BITS)} />)}
      </div>
      {v.lapic.length > 0 && (
        <div className="xs-lapic">
          <div className="xs-note">local APIC (every guest access to this page exits, unless APICv)</div>
          <table>
            <thead><tr><th>register</th><th>offset</th><th>value</th></tr></thead>
            <tbody>
              {v.lapic.map((r) => (
                <tr key={r.name}><td>{lapicRegisterTerm(r.name) ? <span data-term={lapicRegisterTerm(r.name)} tabIndex={0}>{r.name}</span> : r.name}</td><td>{hex(r.offset, 3)}</td><td className={changed.lapic.has(r.name) ? 'xs-changed' : undefined}>{hex(r.value >>> 0, 8)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
});

const selectVcpus = (s: MachineState) => s.view?.vcpus;

export default function Registers() {
  const vcpus = useMachineLive(selectVcpus);
  const [tab, setTab] = useState('0:0');
  if (!vcpus || vcpus.length === 0) {
    return <section tabIndex={0} className="xs-panel" aria-label="Registers"><div className="xs-empty">Registers appear once a program is loaded.</div></section>;
  }
  const shown = vcpus.find((v) => `${v.vm}:${v.vcpu}` === tab) ?? vcpus[0];
  const vms = [...new Set(vcpus.map((v) => v.vm))];
  return (
    <section tabIndex={0} className="xs-panel" aria-label="Registers" data-testid="registers">
      <div className="xs-tabs" role="tablist">
        {vms.map((vm) => (
          <span key={vm} className="xs-tabgroup">
            {vms.length > 1 && <span className="xs-note">VM {vm}</span>}
            {vcpus.filter((v) => v.vm === vm).map((v) => {
              const id = `${v.vm}:${v.vcpu}`;
              return (
                <button type="button" role="tab" key={id} aria-selected={v === shown} className={v === shown ? 'xs-tab sel' : 'xs-tab'} onClick={() => setTab(id)}>
                  {vms.length > 1 ? `vCPU ${v.vcpu}` : `VM ${v.vm} · vCPU ${v.vcpu}`}{v.halted ? ' (hlt)' : ''}
                </button>
              );
            })}
          </span>
        ))}
      </div>
      <VcpuRegs v={shown} />
    </section>
  );
}
