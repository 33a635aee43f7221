/** The layout menu: which named preset the machine side shows (also Alt+1..4). */
import { useUiStore } from '../store/uiStore';
import * as ctl from './controller';
import { LAYOUT_PRESETS } from './layoutPresets';

export function LayoutMenu() {
  const current = useUiStore((s) => s.layout.id);
  const title = useUiStore((s) => s.layout.title);
  const known = LAYOUT_PRESETS.some((p) => p.id === current);
  return (
    <label className="field layout-menu" title={`Panel layout. ${LAYOUT_PRESETS.map((p, i) => `Alt+${i + 1} ${p.title}: ${p.blurb ?? ''}`).join('; ')}`}>
      <span>layout</span>
      <select data-testid="layout-select" value={known ? current : ''} onChange={(e) => ctl.chooseLayoutPreset(e.target.value)}>
        {!known && <option value="">{title || 'custom'}</option>}
        {LAYOUT_PRESETS.map((p) => <option key={p.id} value={p.id}>{p.title}</option>)}
      </select>
    </label>
  );
}
