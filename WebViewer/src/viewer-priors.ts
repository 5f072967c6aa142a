// Priors in the viewer (issue 10): the patient's other studies (GET {api}dicom/studies/{uid}/priors) listed
// under the series panel with date, modalities, description and report status (when reports exist). A click
// opens the prior beside the current study: layout 1×2 (not remembered as the user's layout), the current
// study's series on the left (the active viewport's), the prior on the right on its series that best matches
// it (viewer-priors-model.ts bestMatchingSeries). The open prior lists its own image series: a click shows one
// in the prior's viewport. "Close prior" returns to the layout and series shown before. Linked scrolling with
// the prior is viewer-sync.ts ("Link prior").
//
// Hooks for tests: li.viewer-priors[data-rr-priors="loading"|"ready"|"error"], buttons .prior-item
// [data-prior-uid] (aria-expanded when open), .prior-series[data-series-uid], .prior-close. DICOM strings
// reach the DOM as text only.

import { Api, type Series, type StudyDetail } from './api';
import { h } from './dom';
import { seriesLabel, stackImages, type LayoutId } from './viewer-model';
import { bestMatchingSeries, decodePriors, priorText, type Prior } from './viewer-priors-model';
import type { Pane } from './viewer-viewport';

export interface PriorsHost {
  study: StudyDetail;
  apiRoot: string;
  orthancRoot: string;
  /** Whether the viewports can load (cornerstone is ready). */
  ready(): boolean;
  panes(): readonly Pane[];
  active(): number;
  layoutId(): LayoutId;
  /** Shows a layout without remembering it for the user; panes listed in `reserve` are not filled. */
  showLayout(id: LayoutId, reserve: number[]): Promise<void>;
  load(pane: Pane, s: Series, from?: StudyDetail): Promise<void>;
  activate(i: number): void;
}

export interface Priors {
  /** The list, an item of the series panel. */
  readonly element: HTMLLIElement;
  /** Fetches the list (once). */
  load(): Promise<void>;
  /** Marks the prior's series the prior's viewport shows (after any load). */
  refresh(): void;
  destroy(): void;
}

interface Saved {
  layout: LayoutId;
  shown: Array<{ series: Series; study: StudyDetail } | null>;
}

// The closures share the list, the open prior and the saved layout: one function on purpose.
export function createPriors(host: PriorsHost): Priors {
  const api = new Api(host.apiRoot);
  const status = h('div', { class: 'priors-status muted', text: 'Loading priors…' });
  const list = h('ul', { class: 'priors-list', attrs: { 'aria-label': 'Priors' } });
  const closeButton = h('button', { class: 'viewer-tool prior-close', text: 'Close prior', attrs: { type: 'button', hidden: '' } });
  const element = h(
    'li',
    { class: 'viewer-priors', attrs: { 'data-rr-priors': 'loading' } },
    h('div', { class: 'priors-title', text: 'Priors' }),
    status,
    list,
    closeButton,
  );
  const details = new Map<string, Promise<StudyDetail>>();
  const items = new Map<string, { button: HTMLButtonElement; series: HTMLUListElement }>();
  let open: { uid: string; study: StudyDetail } | null = null;
  let saved: Saved | null = null;
  let destroyed = false;
  let busy = false;

  const detail = (uid: string): Promise<StudyDetail> => {
    let d = details.get(uid);
    if (!d) {
      d = api.getStudy(uid);
      d.catch(() => details.delete(uid)); // a failure is retried on the next click
      details.set(uid, d);
    }
    return d;
  };

  /** The prior's image series under its item, each a button that shows it in the prior's viewport. */
  const listSeries = (uid: string, prior: StudyDetail): void => {
    const item = items.get(uid);
    if (!item) return;
    const buttons = prior.series
      .filter((s) => stackImages(s, host.orthancRoot).length > 0)
      .map((s) => {
        const label = seriesLabel(s);
        const b = h(
          'button',
          { class: 'prior-series', attrs: { type: 'button', 'data-series-uid': s.seriesInstanceUid } },
          h('span', { class: 'series-title', text: label.title }),
          h('span', { class: 'series-detail muted', text: label.detail }),
        );
        b.addEventListener('click', () => void showSeries(prior, s));
        return h('li', {}, b);
      });
    item.series.replaceChildren(...buttons);
  };

  const markOpen = (): void => {
    for (const [uid, item] of items) {
      const isOpen = open?.uid === uid;
      item.button.setAttribute('aria-expanded', String(isOpen));
      item.button.classList.toggle('active', isOpen);
      item.series.hidden = !isOpen;
    }
    closeButton.hidden = open === null;
    const right = host.panes()[1];
    const shownUid = right && open && right.study().studyInstanceUid === open.uid ? right.series()?.seriesInstanceUid : undefined;
    for (const b of list.querySelectorAll<HTMLButtonElement>('.prior-series')) {
      b.classList.toggle('active', b.getAttribute('data-series-uid') === shownUid);
    }
  };

  /** The prior's viewport: the right one of the side-by-side layout. */
  const priorPane = (): Pane | null => host.panes()[1] ?? null;

  const showSeries = async (prior: StudyDetail, s: Series): Promise<void> => {
    const pane = priorPane();
    if (!pane || !open || open.uid !== prior.studyInstanceUid) return;
    await host.load(pane, s, prior);
    markOpen();
  };

  /** Opens the prior beside the current study (or switches to it when another prior is open). */
  const openPrior = async (p: Prior): Promise<void> => {
    if (busy || destroyed || !host.ready()) return;
    if (open?.uid === p.studyInstanceUid) return;
    busy = true;
    try {
      status.textContent = '';
      const prior = await detail(p.studyInstanceUid);
      if (destroyed) return;
      const panes = host.panes();
      // the series to compare: the active viewport's, unless it shows a prior (then the first of the study's)
      const own = (x: Pane | undefined): boolean => !!x?.series() && x.study().studyInstanceUid === host.study.studyInstanceUid;
      const activePane = [panes[host.active()], ...panes].find(own);
      const current = activePane?.series() ?? null;
      const currentStudy = activePane?.study() ?? host.study;
      if (!saved) saved = { layout: host.layoutId(), shown: panes.map((x) => (x.series() ? { series: x.series()!, study: x.study() } : null)) };
      await host.showLayout('1x2', [1]);
      const [left, right] = host.panes();
      if (!left || !right) return;
      if (current && left.series() !== current) await host.load(left, current, currentStudy);
      host.activate(0);
      open = { uid: p.studyInstanceUid, study: prior };
      listSeries(p.studyInstanceUid, prior);
      markOpen();
      const match = bestMatchingSeries(current, prior.series);
      if (match) await host.load(right, match, prior);
      else right.status('This prior has no image series to display.');
      markOpen();
    } catch (err) {
      status.textContent = `The prior could not be opened: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      busy = false;
    }
  };

  /** Back to the layout and the series shown before the prior was opened. */
  const closePrior = async (): Promise<void> => {
    if (!saved || busy) return;
    busy = true;
    const back = saved;
    saved = null;
    open = null;
    markOpen();
    try {
      const reserve = back.shown.flatMap((x, i) => (x ? [i] : []));
      await host.showLayout(back.layout, reserve);
      const panes = host.panes();
      await Promise.all(
        back.shown.map((x, i) => {
          const pane = panes[i];
          if (!x || !pane) return Promise.resolve();
          const same = pane.series()?.seriesInstanceUid === x.series.seriesInstanceUid && pane.study() === x.study;
          return same ? Promise.resolve() : host.load(pane, x.series, x.study);
        }),
      );
    } finally {
      busy = false;
    }
  };
  closeButton.addEventListener('click', () => void closePrior());

  const render = (priors: Prior[]): void => {
    items.clear();
    const rows = priors.map((p) => {
      const t = priorText(p);
      const button = h(
        'button',
        { class: 'prior-item', attrs: { type: 'button', 'data-prior-uid': p.studyInstanceUid, 'aria-expanded': 'false', title: 'Open beside the current study' } },
        h('span', { class: 'series-title', text: t.title }),
        h('span', { class: 'series-detail muted', text: t.detail }),
        t.report ? h('span', { class: 'series-detail muted', text: t.report }) : null,
      );
      const series = h('ul', { class: 'prior-series-list', attrs: { hidden: '' } });
      button.addEventListener('click', () => void openPrior(p));
      items.set(p.studyInstanceUid, { button, series });
      return h('li', {}, button, series);
    });
    list.replaceChildren(...rows);
    status.textContent = priors.length === 0 ? 'No other studies of this patient.' : '';
  };

  let loading: Promise<void> | null = null;
  return {
    element,
    load(): Promise<void> {
      loading ??= (async () => {
        try {
          const priors = await api.getJson(`dicom/studies/${encodeURIComponent(host.study.studyInstanceUid)}/priors`, decodePriors);
          if (destroyed) return;
          render(priors);
          element.setAttribute('data-rr-priors', 'ready');
        } catch (err) {
          if (destroyed) return;
          status.textContent = `Priors unavailable: ${err instanceof Error ? err.message : String(err)}`;
          element.setAttribute('data-rr-priors', 'error');
        }
      })();
      return loading;
    },
    refresh: markOpen,
    destroy(): void {
      destroyed = true;
    },
  };
}
