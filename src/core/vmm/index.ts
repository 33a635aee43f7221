/** src/core/vmm: the VMM's exit path, bhyve's decoder/emulator, the instruction cache, APICv. */
export * from './vie';
export * from './opcodes';
export * from './ports';
export * from './decode';
export * from './emulate';
export * from './icache';
export * from './apicv';
export * from './exitPath';
