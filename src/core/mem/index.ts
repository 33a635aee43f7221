/** src/core/mem: guest RAM, the EPT, guest paging and the 2D walk (DESIGN.md "Core contracts"). */
export * from './ram';
export * from './ept';
export * from './paging';
export * from './walk';
export * from './setup';
