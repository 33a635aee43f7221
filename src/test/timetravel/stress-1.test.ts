import { expect, it } from 'vitest';
import { stressProblems } from './stressDeterminism';

it('stress programs 0-49: back to an exit or an instruction and forward again gives the same exits and final state under every strategy', () => {
  expect(stressProblems(0, 50).slice(0, 5)).toEqual([]);
}, 600_000);
