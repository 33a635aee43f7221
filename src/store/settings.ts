/** The user's settings: what the page remembers between visits (persisted by ui/persist.ts). */
import { DEFAULT_COST_PRESET } from '../core/cost';
import type { Strategy } from '../core/events';
import type { Speed } from '../worker/protocol';
import { DEFAULT_LAYOUT_ID } from './layout';

export type Theme = 'dark' | 'light';
export const SPEEDS: readonly Speed[] = [1, 4, 16, 64, 256, 'max'];

export interface Settings {
  theme: Theme;
  strategy: Strategy;
  /** Side B's strategy in A/B mode. */
  strategyB: Strategy;
  preset: string;
  icacheSize: number;
  speed: Speed;
  abMode: boolean;
  /** The named layout preset last chosen (ui/layoutPresets.ts). */
  layoutPreset: string;
}

export const DEFAULT_SETTINGS: Settings = {
  theme: 'dark',
  strategy: 'icache',
  strategyB: 'none',
  preset: DEFAULT_COST_PRESET,
  icacheSize: 256,
  speed: 'max',
  abMode: false,
  layoutPreset: DEFAULT_LAYOUT_ID,
};
