import { describe, expect, it } from 'vitest';
import type { Vcpu, VmExit } from '../cpu/vcpu';
import type { Ept } from '../mem';
import type { WriteProtectPort } from '../mem/pageTracker';
import type { MmioFastPathFn, MsrFastPathFn } from './apicv';
import type { VcpuPort, VmExitPort } from './ports';

// Compile-time checks: the real modules fit the VMM's ports (tsc fails here if they drift).
const vcpuFits = (v: Vcpu): VcpuPort => v;
const exitFits = (e: VmExit): VmExitPort => e;
const eptFits = (e: Ept): WriteProtectPort => e;
const hookFits = (f: MmioFastPathFn): NonNullable<Vcpu['mmioFastPath']> => f;
const msrHookFits = (f: MsrFastPathFn): NonNullable<Vcpu['msrFastPath']> => f;

describe('module contracts', () => {
  it('the real Vcpu, VmExit and Ept satisfy the VMM ports', () => {
    expect([vcpuFits, exitFits, eptFits, hookFits, msrHookFits].every((f) => typeof f === 'function')).toBe(true);
  });
});
