/**
 * Registers per vCPU (tabs grouped by VM): GPRs, RIP, RFLAGS decoded, CR0/CR2/CR3/CR4 and EFER
 * decoded, and the local APIC's registers. Values that changed since the previous frame are
 * highlighted.
 */
import { memo, useState } from 'react';
import { GPR_NAMES } from '../../../core/events';
import type { VcpuView } from '../../../worker/protocol';
import type { MachineState } from '../../../store/machineStore';
import { useMachine, useMachineLive } from '../useMachine';
import { selectShownExit, selectTravelled } from '../../../store/selectors';
import { counted, hex } from '../lib/format';
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

/** What a control register's row shows after its value: its bits that matter, or what it holds. */
function regExtra(r: RegName, value: string): React.ReactNode {
  switch (r) {
    case 'rflags': return <><Bits bits={decodeRflags(value)} /><span className="xs-note">IOPL {iopl(value)}</span></>;
    case 'cr0': return <Bits bits={decodeBits(value, CR0_BITS).filter((b) => b.on || ['PE', 'WP', 'PG'].includes(b.name))} />;
    case 'cr2': return <span className="xs-note">last page-fault address</span>;
    case 'cr3': return <span className="xs-note">guest page-table root</span>;
    case 'cr4': return <Bits bits={decodeBits(value, CR4_BITS).filter((b) => b.on || ['PAE', 'PGE'].includes(b.name))} />;
    case 'efer': return <Bits bits={decodeBits(value, EFER_BITS)} />;
    default: return null;
  }
}

/**
 * One register: rendered again only when its value or its mark changed (a seek or a frame
 * changes a few of the 24; the panel had every element of every row diffed per update).
 */
const RegRow = memo(function RegRow({ r, value, changed }: { r: RegName; value: string; changed: boolean }) {
  // CR3 is a glossary term: focusable, so its definition shows on keyboard focus too.
  const name = r === 'cr3' ? <span className="xs-reg-name" data-term="CR3" tabIndex={0}>{r}</span> : <span className="xs-reg-name">{r}</span>;
  return <div className="xs-reg" data-reg={r}>{name}<code className={changed ? 'xs-changed' : undefined}>{groupHex(value)}</code>{regExtra(r, value)}</div>;
});

const LapicRow = memo(function LapicRow({ name, offset, value, changed }: { name: string; offset: number; value: number; changed: boolean }) {
  const term = lapicRegisterTerm(name);
  return <tr><td>{term ? <span data-term={term} tabIndex={0}>{name}</span> : name}</td><td>{hex(offset, 3)}</td><td className={changed ? 'xs-changed' : undefined}>{hex(value >>> 0, 8)}</td></tr>;
});

const WIDE_ROWS: readonly RegName[] = ['rip', 'rflags', 'cr0', 'cr2', 'cr3', 'cr4', 'efer'];

/**
 * `several`: the machine has more than one vCPU (the stats strip's count is all of theirs).
 * `moment`: when the values were taken, said at a past exit (there they are the guest's as the
 * exit is taken, before the VMM handles it; after a step, the exit has been handled).
 */
const VcpuRegs = memo(function VcpuRegs({ v, several, moment }: { v: VcpuView; several: boolean; moment: string | null }) {
  const changed = useChanged(v);
  const row = (r: RegName) => <RegRow key={r} r={r} value={v.regs[r]} changed={changed.regs.has(r)} />;
  return (
    <div className="xs-regs">
      <div className="xs-note">{v.halted ? 'halted' : 'not halted'} · {counted(v.retired, 'instruction')} retired{several ? ' by this vCPU' : ''}</div>
      {/* A line of its own: as a wrapped tail of the line above, a seek that changed its wrap moved every register. */}
      {moment && <div className="xs-note" data-testid="regs-moment">{moment}</div>}
      <div className="xs-reg-grid">{GPR_NAMES.map(row)}</div>
      <div className="xs-reg-grid xs-reg-wide">{WIDE_ROWS.map(row)}</div>
      {v.lapic.length > 0 && (
        <div className="xs-lapic">
          <div className="xs-note">local APIC (every guest access to this page exits, unless APICv)</div>
          <table>
            <thead><tr><th>register</th><th>offset</th><th>value</th></tr></thead>
            <tbody>
              {v.lapic.map((r) => <LapicRow key={r.name} name={r.name} offset={r.offset} value={r.value} changed={changed.lapic.has(r.name)} />)}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
});

const selectVcpus = (s: MachineState) => s.view?.vcpus;

/** A vCPU's key in this panel ("vm:vcpu"): its tab's, and the exit shown's vCPU. */
const vcpuKey = (x: { vm: number; vcpu: number }): string => `${x.vm}:${x.vcpu}`;

/** At a past exit, its number (the registers are taken as it is taken); else null. */
const selectTravelledSeq = (s: MachineState): number | null => (selectTravelled(s) ? selectShownExit(s)?.seq ?? null : null);

/** The vCPU of the exit the pipeline shows (stepping, travelling, or picked in the log). */
const selectExitVcpu = (s: MachineState): string | null => {
  const e = selectShownExit(s);
  return e ? vcpuKey(e) : null;
};

/** What the note says of `v`'s values at past exit `seq`, taken on vCPU `exitVcpu` ("vm:vcpu"). */
function momentOf(seq: number | null, exitVcpu: string | null, v: VcpuView): string | null {
  if (seq === null) return null;
  return exitVcpu === vcpuKey(v) ? `as exit #${seq} is taken, before the VMM handles it` : `as another vCPU's exit #${seq} is taken`;
}

export default function Registers() {
  const vcpus = useMachineLive(selectVcpus);
  const exitVcpu = useMachine(selectExitVcpu);
  // Until a tab is picked, the registers are those of the vCPU whose exit is shown: stepping
  // through four vCPUs' exits showed vCPU 0 beside another vCPU's exit.
  const [tab, setTab] = useState<string | null>(null);
  const travelledSeq = useMachine(selectTravelledSeq);
  if (!vcpus || vcpus.length === 0) {
    return <section tabIndex={0} className="xs-panel" aria-label="Registers"><div className="xs-empty">Registers appear once a program is loaded.</div></section>;
  }
  const want = tab ?? exitVcpu;
  const shown = vcpus.find((v) => vcpuKey(v) === want) ?? vcpus[0];
  const vms = [...new Set(vcpus.map((v) => v.vm))];
  return (
    <section tabIndex={0} className="xs-panel" aria-label="Registers" data-testid="registers">
      <div className="xs-tabs" role="tablist">
        {vms.map((vm) => (
          <span key={vm} className="xs-tabgroup">
            {vms.length > 1 && <span className="xs-note">VM {vm}</span>}
            {vcpus.filter((v) => v.vm === vm).map((v) => {
              const id = vcpuKey(v);
              return (
                <button type="button" role="tab" key={id} aria-selected={v === shown} className={v === shown ? 'xs-tab sel' : 'xs-tab'} onClick={() => setTab(id)} title={id === exitVcpu ? 'the vCPU of the exit shown' : undefined}>
                  {vms.length > 1 ? `vCPU ${v.vcpu}` : `VM ${v.vm} · vCPU ${v.vcpu}`}{v.halted ? ' (hlt)' : ''}
                </button>
              );
            })}
          </span>
        ))}
      </div>
      <VcpuRegs v={shown} several={vcpus.length > 1} moment={momentOf(travelledSeq, exitVcpu, shown)} />
    </section>
  );
}
