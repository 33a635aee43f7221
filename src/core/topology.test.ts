import { describe, expect, it } from 'vitest';
import { parseTopology } from './topology';

describe('topology header', () => {
  it('defaults the topology to one VM with one vCPU and clamps what a program asks for', () => {
    expect(parseTopology('_start: hlt')).toEqual({ vms: 1, vcpusPerVm: 1 });
    expect(parseTopology('; exitscope: vms=2 vcpus=2')).toEqual({ vms: 2, vcpusPerVm: 2 });
    expect(parseTopology('; exitscope: vms=9 vcpus=0')).toEqual({ vms: 2, vcpusPerVm: 1 });
  });
});
