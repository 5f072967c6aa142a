// The study page's right-hand panel as tabs (issue 12): "AI analysis" and "Report" side by side in one column
// beside the viewer. One tab: its panel alone (the AI panel as before). The tab bar sits at the top of the
// panel shown, so that panel spans the column; the chosen tab is remembered (localStorage). Arrow keys move
// between tabs (WAI-ARIA tabs pattern).
import { hIn } from './dom';
import type { StorageLike } from './report-autosave';

export interface SideTab {
  id: string;
  label: string;
  el: HTMLElement;
  onShow?(): void;
}

const SIDE_TAB_KEY = 'rr.study.sideTab';

/**
 * The tabbed right-hand panel; one tab: its panel alone. The tab bar sits at the top of the panel shown (so
 * that panel spans the column, as the AI panel alone does). The chosen tab is remembered (localStorage).
 */
export function createSidePanel(doc: Document, tabs: readonly SideTab[], storage: StorageLike | null = null): HTMLElement {
  if (tabs.length === 1) return tabs[0]!.el;
  const panel = hIn(doc, 'aside', { class: 'side-panel', attrs: { 'data-rr-side': '' } });
  let remembered: string | null = null;
  try {
    remembered = storage?.getItem(SIDE_TAB_KEY) ?? null;
  } catch {
    remembered = null;
  }
  const bar = hIn(doc, 'div', { class: 'side-tabs', attrs: { role: 'tablist', 'aria-label': 'Study panels' } });
  const buttons = tabs.map((t) =>
    hIn(doc, 'button', { class: 'side-tab', attrs: { type: 'button', role: 'tab', id: `side-tab-${t.id}`, 'aria-controls': `side-panel-${t.id}`, 'data-side-tab': t.id }, text: t.label }),
  );
  const wraps = tabs.map((t) => hIn(doc, 'div', { class: 'side-tabpanel', attrs: { role: 'tabpanel', id: `side-panel-${t.id}`, 'aria-labelledby': `side-tab-${t.id}` } }, t.el));
  const select = (id: string, remember: boolean): void => {
    tabs.forEach((t, i) => {
      const on = t.id === id;
      // the tab bar is the first child of the panel shown: each panel keeps the whole height of the column
      if (on) t.el.prepend(bar);
      buttons[i]!.setAttribute('aria-selected', on ? 'true' : 'false');
      buttons[i]!.tabIndex = on ? 0 : -1;
      wraps[i]!.hidden = !on;
      if (on) t.onShow?.();
    });
    panel.setAttribute('data-active-tab', id);
    if (remember) {
      try {
        storage?.setItem(SIDE_TAB_KEY, id);
      } catch {
        /* storage off */
      }
    }
  };
  buttons.forEach((b, i) => {
    b.addEventListener('click', () => select(tabs[i]!.id, true));
    b.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const j = (i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length;
      select(tabs[j]!.id, true);
      buttons[j]!.focus();
    });
    bar.append(b);
  });
  panel.append(...wraps);
  select(tabs.some((t) => t.id === remembered) ? remembered! : tabs[0]!.id, false);
  return panel;
}
