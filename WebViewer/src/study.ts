// Study page (route "#/studies/<StudyInstanceUID>"): study header, series list (collapsed when the viewer, which
// has its own series panel, is shown), the viewer slot taking the space and, for the roles that may use it, the AI
// analysis panel right of the viewer with "Analyze with AI" at the viewer's top right; the panel's images and
// findings show their image in the viewer (the viewer's showImage, viewer-goto.ts).
import { mountAiPanel, type AiPanel } from './ai-panel';
import { ApiError, apiRoot, type Api, type Series, type StudyDetail } from './api';
import { h, hIn, type Child } from './dom';
import { formatBirthSex, formatDateTime, formatInstant, formatModalities, formatPersonName } from './format';
import { studyBackLink, type Page } from './router';
import { errorAlert } from './failure';
import { orthancRoot } from './viewer-model';
import { createSidePanel, type SideTab } from './report-side';
import { mountReportTab, type ReportTab } from './report-tab';

export interface StudyOptions {
  api: Api;
  uid: string;
  /** Show the AI analysis panel (the "ai" capability, capabilities.ts); default false. */
  ai?: boolean;
  /** Poll interval of an AI analysis in progress (tests). */
  aiPollMs?: number;
  /**
   * Show the image viewer (the "study" capability); default false. Its code (viewer.ts, cornerstone3D) is
   * loaded with a dynamic import() only then, so the worklist's JavaScript stays small.
   */
  viewer?: boolean;
  /** Tools that write in the viewer (the "annotate" capability, viewer-mode.ts); default false. */
  annotate?: boolean;
  /** The Report tab beside the AI panel (the "report" capability, report-tab.ts); default false. */
  report?: boolean;
  /** The logged-in user (the report's unsent draft is kept per user). */
  user?: string | null;
}

interface MountedViewer {
  destroy(): void;
  /** viewer-goto.ts contract: frame 1-based; false when the study has no such image. */
  showImage(sopInstanceUid: string, frame: number): Promise<boolean>;
}

/**
 * Loads the viewer's code (viewer.ts, cornerstone3D: 4 MB of script to compile and run) and sets cornerstone up,
 * without waiting for the session and the study: main.ts calls it when the page opens on a study's address, so
 * that this work overlaps the session check and the study's request instead of following them (bench/README.md,
 * "Viewer"). Idempotent; a failure is left to startViewer, which imports the same module and shows why.
 */
export function preloadViewer(): void {
  import('./viewer').then((m) => m.warmUp(), () => undefined);
}

/** Loads viewer.ts lazily and mounts it into the viewer slot; failures are shown in the slot. */
async function startViewer(slot: HTMLElement, study: StudyDetail, signal: AbortSignal, opts: StudyOptions): Promise<MountedViewer | null> {
  const root = apiRoot();
  const { mountViewer } = await import('./viewer');
  if (signal.aborted) return null;
  const viewer = await mountViewer(slot, {
    study,
    apiRoot: root,
    orthancRoot: orthancRoot(root, location.href),
    api: opts.api,
    canAnnotate: opts.annotate === true,
    canAi: opts.ai === true,
  });
  if (signal.aborted) {
    viewer.destroy();
    return null;
  }
  return viewer;
}

/** One series row; DICOM values only through textContent. */
export function renderSeriesRow(doc: Document, series: Series): HTMLTableRowElement {
  const cell = (cls: string, value: string, title = false): HTMLTableCellElement =>
    hIn(doc, 'td', { class: cls, attrs: { title: title && value ? value : null } }, value);
  return hIn(
    doc,
    'tr',
    { class: 'series-row', attrs: { 'data-series-uid': series.seriesInstanceUid } },
    cell('c-num', series.seriesNumber === null ? '' : String(series.seriesNumber)),
    hIn(doc, 'td', { class: 'c-mod' }, series.modality ? hIn(doc, 'span', { class: 'mod', attrs: { 'data-mod': series.modality }, text: series.modality }) : null),
    cell('c-desc', series.seriesDescription, true),
    cell('c-body', series.bodyPartExamined, true),
    cell('c-count', String(series.instanceCount)),
  );
}

function fact(label: string, value: Child, cls = ''): HTMLDivElement {
  return h('div', { class: `fact ${cls}` }, h('dt', { text: label }), h('dd', {}, value || '—'));
}

function renderHeader(study: StudyDetail): HTMLElement {
  return h(
    'section',
    { class: 'study-header', attrs: { 'aria-label': 'Study' } },
    h(
      'div',
      { class: 'study-title' },
      h('h1', { class: 'patient-name', text: formatPersonName(study.patientName) || 'Unnamed patient' }),
      h('span', { class: 'patient-meta', text: [study.patientId, formatBirthSex(study.patientBirthDate, study.patientSex)].filter(Boolean).join(' · ') }),
    ),
    h(
      'dl',
      { class: 'facts' },
      fact('Study date', formatDateTime(study.studyDate, study.studyTime)),
      fact('Description', study.studyDescription, 'wide'),
      fact('Accession', study.accessionNumber),
      fact('Modalities', formatModalities(study.modalities)),
      fact('Referring physician', formatPersonName(study.referringPhysicianName)),
      fact('Institution', study.institutionName),
      fact('Series / Images', `${study.seriesCount} / ${study.instanceCount}`),
      fact('Received', formatInstant(study.receivedAt)),
      fact('Study UID', h('code', { text: study.studyInstanceUid }), 'wide'),
    ),
  );
}

/** The series table; `open` false: collapsed under its title (the viewer lists the series itself). */
function renderSeriesTable(study: StudyDetail, open: boolean): HTMLElement {
  const head = h(
    'tr',
    {},
    h('th', { class: 'c-num', attrs: { scope: 'col' }, text: '#' }),
    h('th', { class: 'c-mod', attrs: { scope: 'col' }, text: 'Mod.' }),
    h('th', { class: 'c-desc', attrs: { scope: 'col' }, text: 'Series description' }),
    h('th', { class: 'c-body', attrs: { scope: 'col' }, text: 'Body part' }),
    h('th', { class: 'c-count', attrs: { scope: 'col' }, text: 'Images' }),
  );
  const body = h('tbody');
  if (study.series.length === 0) {
    body.appendChild(h('tr', {}, h('td', { attrs: { colspan: 5 } }, h('div', { class: 'state', text: 'No series.' }))));
  } else {
    for (const s of study.series) body.appendChild(renderSeriesRow(document, s));
  }
  return h(
    'details',
    { class: 'series-panel', attrs: { 'aria-label': 'Series', open } },
    h('summary', { class: 'panel-title', text: `Series (${study.series.length})` }),
    h('div', { class: 'table-scroll' }, h('table', { class: 'series' }, h('thead', {}, head), body)),
  );
}

export function mountStudy(opts: StudyOptions): Page {
  const controller = new AbortController();
  let aiPanel: AiPanel | null = null;
  let reportTab: ReportTab | null = null;
  let viewer: MountedViewer | null = null;
  let viewerReady: Promise<MountedViewer | null> = Promise.resolve(null);
  const content = h('main', { class: 'study-content' });
  const el = h(
    'div',
    { class: 'page study-page' },
    h(
      'header',
      { class: 'topbar' },
      h('a', { class: 'btn back', attrs: { href: studyBackLink().href }, text: `← ${studyBackLink().label}` }),
    ),
    content,
  );
  content.appendChild(h('div', { class: 'state' }, h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading study…'));
  document.title = 'Study · Reading Room';

  opts.api
    .getStudy(opts.uid, controller.signal)
    .then((study) => {
      document.title = `${formatPersonName(study.patientName) || 'Study'} · Reading Room`;
      // VIEWER SLOT: the cornerstone3D viewer (viewer.ts) mounts into this element.
      const slot = h(
        'section',
        { class: 'viewer-slot', attrs: { id: 'rr-viewer', 'data-rr-viewer': '', 'aria-label': 'Image viewer' } },
        h('div', { class: 'viewer-placeholder' }, h('strong', { text: 'Image viewer' }), h('span', { class: 'muted', text: opts.viewer ? 'Loading the image viewer…' : 'No image viewer for this role.' })),
      );
      if (opts.ai) {
        // the images sent to the model and the findings naming one show it in the viewer once it is up
        const showImage = async (sop: string, frame: number): Promise<boolean> => (await viewerReady.catch(() => null))?.showImage(sop, frame) ?? false;
        aiPanel = mountAiPanel({
          api: opts.api,
          studyInstanceUid: study.studyInstanceUid || opts.uid,
          study,
          apiRoot: apiRoot(),
          ...(opts.viewer ? { showImage } : {}),
          ...(opts.aiPollMs !== undefined ? { pollMs: opts.aiPollMs } : {}),
        });
      }
      if (opts.report) {
        const showImage = async (sop: string, frame: number): Promise<boolean> => (await viewerReady.catch(() => null))?.showImage(sop, frame) ?? false;
        reportTab = mountReportTab({ api: opts.api, study, apiRoot: apiRoot(), user: opts.user ?? null, ...(opts.viewer ? { showImage } : {}) });
      }
      // the right-hand panel: AI analysis and Report as tabs (report-side.ts)
      const sideTabs: SideTab[] = [];
      if (aiPanel) sideTabs.push({ id: 'ai', label: 'AI analysis', el: aiPanel.el });
      if (reportTab) sideTabs.push({ id: 'report', label: 'Report', el: reportTab.el, onShow: () => reportTab?.activate() });
      const side = sideTabs.length ? createSidePanel(document, sideTabs, globalThis.localStorage ?? null) : null;
      content.replaceChildren(
        renderHeader(study),
        renderSeriesTable(study, !opts.viewer),
        h(
          'div',
          { class: `study-body${aiPanel ? ' with-ai' : ''}${reportTab ? ' with-side' : ''}` },
          h(
            'div',
            { class: 'viewer-column' },
            // "Analyze with AI" at the viewer's top right (the original design's place)
            aiPanel ? h('div', { class: 'viewer-head', attrs: { 'data-rr-viewer-head': '' } }, aiPanel.analyzeButton) : null,
            slot,
          ),
          side,
        ),
      );
      if (opts.viewer) {
        viewerReady = startViewer(slot, study, controller.signal, opts);
        viewerReady
          .then((v) => {
            viewer = v;
          })
          .catch((err: unknown) => {
            if (!controller.signal.aborted) slot.replaceChildren(errorAlert(document, 'The image viewer could not be loaded', err));
          });
      }
    })
    .catch((err: unknown) => {
      if (controller.signal.aborted) return;
      const title = err instanceof ApiError && err.status === 404 ? 'Study not found' : 'Could not load the study';
      content.replaceChildren(
        h(
          'div',
          { class: 'state' },
          errorAlert(document, title, err),
          h('a', { class: 'btn', attrs: { href: studyBackLink().href }, text: `Back to ${studyBackLink().label.toLowerCase()}` }),
        ),
      );
    });

  return {
    el,
    destroy(): void {
      controller.abort();
      viewer?.destroy();
      viewer = null;
      aiPanel?.destroy();
      reportTab?.destroy();
    },
  };
}
