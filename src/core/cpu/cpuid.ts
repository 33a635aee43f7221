/** The CPUID leaves the vCPU reports (SDM Vol. 2A CPUID). */

/** Vendor string: 12 ASCII bytes in EBX, EDX, ECX order (SDM CPUID leaf 0). */
const VENDOR = 'ExitScopeCPU';
function str4(s: string, i: number): number {
  return (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
}

/**
 * CPUID leaves (SDM Vol. 2A CPUID, Tables 3-8 ... 3-20). Feature bits only for what the vCPU
 * implements: FPU-less integer core with TSC, MSR, PAE, CX8, APIC, SEP-less SYSCALL, PGE,
 * CMOV, CX16, POPCNT, x2APIC; extended: LM, NX, SYSCALL, LAHF-SAHF in 64-bit, ABM (LZCNT),
 * BMI1 (TZCNT) is not advertised (TZCNT decodes as REP BSF elsewhere; we implement TZCNT).
 */
export function cpuidLeaf(leaf: number, sub: number, apicId: number): [number, number, number, number] {
  void sub;
  switch (leaf) {
    case 0: return [0x0d, str4(VENDOR, 0), str4(VENDOR, 8), str4(VENDOR, 4)];
    case 1: {
      // Family 6, model 0x55 (stepping 4): eax = stepping | model<<4 | family<<8 | extModel<<16
      const eax = 0x4 | (0x5 << 4) | (0x6 << 8) | (0x5 << 16);
      const ebx = (apicId << 24) | (1 << 16) | (8 << 8);
      const ecx = (1 << 13) /* CX16 */ | (1 << 21) /* x2APIC */ | (1 << 23) /* POPCNT */ | (1 << 24) /* TSC-deadline */ | (1 << 31) /* hypervisor */;
      const edx = (1 << 4) /* TSC */ | (1 << 5) /* MSR */ | (1 << 6) /* PAE */ | (1 << 8) /* CX8 */ | (1 << 9) /* APIC */
        | (1 << 13) /* PGE */ | (1 << 15) /* CMOV */;
      return [eax, ebx, ecx >>> 0, edx];
    }
    case 7: return sub === 0 ? [0, 1 << 3 /* BMI1 (TZCNT) */, 0, 0] : [0, 0, 0, 0];
    case 0x80000000: return [0x80000008, 0, 0, 0];
    case 0x80000001: return [0, 0, (1 << 0) /* LAHF/SAHF */ | (1 << 5) /* ABM: LZCNT */, (1 << 11) /* SYSCALL */ | (1 << 20) /* NX */ | (1 << 29) /* LM */];
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const brand = 'exitscope x86-64 vCPU (emulated)'.padEnd(48, ' ');
      const o = (leaf - 0x80000002) * 16;
      return [str4(brand, o), str4(brand, o + 4), str4(brand, o + 8), str4(brand, o + 12)];
    }
    case 0x80000008: return [0x3030, 0, 0, 0]; // 48-bit physical and linear addresses
    default: return [0, 0, 0, 0];
  }
}
