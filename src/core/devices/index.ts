/** Emulated devices: local APIC (with timer), IORAM scratch MMIO, debug console. */
export * from './mmio';
export * from './lapic';
export * from './ioram';
export * from './console';
