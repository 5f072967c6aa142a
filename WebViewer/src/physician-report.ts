// A report as a referring physician reads it (route "#/reports/{id}", issue 12): the prevailing final version
// (the template's sections with their filled fields, AI-assisted findings marked with their analysis, the
// measurements and key images), the signature, corrections and addenda in order, the critical result with its
// communication and "Acknowledge critical result" for one the caller has not acknowledged, the PDF download,
// "View images" (the study page: the basic viewer for physicians) and the patient's history (their other
// studies with report states, each finalized report readable). Every string is shown as text.
import { apiRoot, type Api, type StudyDetail } from './api';
import { append, h, type Child } from './dom';
import { errorAlert, messageOf } from './failure';
import { formatBirthSex, formatDate, formatDateTime, formatInstant, formatModalities, formatPersonName } from './format';
import { acknowledgeReport, getReport, patientReports, pdfUrl, studyPriors } from './physician-api';
import {
  FINAL_STATES,
  acknowledgedBy,
  imagingFirst,
  prevailingView,
  shortRef,
  shownSections,
  stateLabel,
  type PrevailingView,
  type Report,
  type ReportRow,
  type ReportVersion,
} from './physician-wire';
import { lastReportsHash, rememberStudyBack, reportHash, studyHash, type Page } from './router';
import { criticalFlag } from './worklist-report';
import type { Prior } from './viewer-priors-model';

export interface ReportPageOptions {
  api: Api;
  reportId: string;
  /** The caller (whose acknowledgement counts). */
  username: string;
  /** "View images" (the "study" capability). */
  viewImages: boolean;
}

const withdrawnState = (state: string): boolean => state === 'entered-in-error' || state === 'cancelled';

const signer = (v: ReportVersion): string => v.signedByName || v.signedBy || v.author || 'unknown';

function fact(label: string, value: Child): HTMLElement {
  return h('div', { class: 'fact' }, h('dt', { text: label }), h('dd', {}, value || '—'));
}

/** Patient and study identification (from the study; absent when it could not be read). */
function renderIdentity(study: StudyDetail | null, report: Report): HTMLElement {
  if (!study) {
    return h('section', { class: 'rp-identity' }, h('h1', { class: 'patient-name', text: 'Report' }), h('code', { text: report.studyInstanceUid }));
  }
  return h(
    'section',
    { class: 'rp-identity', attrs: { 'aria-label': 'Patient and study' } },
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
      fact('Description', study.studyDescription),
      fact('Modalities', formatModalities(imagingFirst(study.modalities))),
      fact('Accession', study.accessionNumber),
      fact('Referring physician', formatPersonName(study.referringPhysicianName)),
      fact('Institution', study.institutionName),
    ),
  );
}

/** The critical result: flag, communication, acknowledgements, the button when the caller has not acknowledged. */
function renderCritical(report: Report, username: string, acknowledge: () => void): HTMLElement | null {
  if (!report.critical) return null;
  const c = report.criticalCommunication;
  const mine = acknowledgedBy(report, username);
  const comm = c
    ? h(
        'p',
        { class: 'rp-comm' },
        'Communicated to ',
        h('strong', { text: c.recipient || 'unknown' }),
        c.method ? ` by ${c.method}` : '',
        c.communicatedAt ? ` on ${formatInstant(c.communicatedAt)}` : '',
        c.recordedBy ? ` (recorded by ${c.recordedBy})` : '',
        '.',
      )
    : null;
  const acks = report.acknowledgements.length
    ? h('p', { class: 'rp-acks muted', text: `Acknowledged by ${report.acknowledgements.map((a) => `${a.username}${a.at ? ` on ${formatInstant(a.at)}` : ''}`).join(', ')}.` })
    : null;
  return h(
    'section',
    { class: `rp-critical${mine ? ' acked' : ''}`, attrs: { role: mine ? null : 'alert', 'data-acknowledged': mine ? 'true' : 'false' } },
    h('div', { class: 'rp-critical-head' }, mine ? h('span', { class: 'critical-acked', text: 'Critical ✓' }) : criticalFlag(document), h('strong', { text: mine ? 'Critical result — acknowledged by you' : 'Critical result — please acknowledge' })),
    comm,
    acks,
    mine ? null : h('button', { class: 'btn btn-primary', attrs: { type: 'button', 'data-action': 'acknowledge' }, text: 'Acknowledge critical result', on: { click: acknowledge } }),
  );
}

/** The inserted items of the content version: AI-assisted findings, measurements, key images. */
function renderInserts(v: ReportVersion, study: StudyDetail | null, root: string): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (v.aiFindings.length) {
    out.push(
      h(
        'section',
        { class: 'rp-section rp-ai', attrs: { 'data-section': 'aiFindings' } },
        h('h2', { text: 'AI-assisted findings' }),
        h(
          'ul',
          { class: 'rp-list' },
          ...v.aiFindings.map((f) =>
            h(
              'li',
              { class: 'rp-ai-finding' },
              h('span', { class: 'ai-assisted', attrs: { title: 'Suggested by AI, reviewed and confirmed by the radiologist' }, text: 'AI-assisted' }),
              ' ',
              h('span', { class: 'rp-text', text: [f.text || 'Finding', f.location].filter(Boolean).join(' — ') }),
              f.severity ? h('span', { class: 'muted', text: ` (${f.severity})` }) : null,
              h('span', { class: 'muted rp-ref', text: ` · analysis ${shortRef(f.analysisId)}${f.index !== null ? `, finding ${f.index + 1}` : ''}` }),
            ),
          ),
        ),
      ),
    );
  }
  if (v.measurements.length) {
    out.push(
      h(
        'section',
        { class: 'rp-section', attrs: { 'data-section': 'measurements' } },
        h('h2', { text: 'Measurements' }),
        h('ul', { class: 'rp-list' }, ...v.measurements.map((m) => h('li', { class: 'rp-text', text: m.text || `Measurement ${m.annotationUid}` }))),
      ),
    );
  }
  if (v.keyImages.length) out.push(renderKeyImages(v, study, root));
  return out;
}

/** Key images: a thumbnail (rendered by the plugin) when the instance is found in the study, and its place. */
function renderKeyImages(v: ReportVersion, study: StudyDetail | null, root: string): HTMLElement {
  const where = (sop: string): { orthancId: string; label: string } | null => {
    for (const s of study?.series ?? []) {
      const i = s.instances.findIndex((x) => x.sopInstanceUid === sop);
      const inst = s.instances[i];
      if (inst) return { orthancId: inst.orthancId, label: `Series ${s.seriesNumber ?? '?'}${s.seriesDescription ? ` (${s.seriesDescription})` : ''}, image ${i + 1}` };
    }
    return null;
  };
  return h(
    'section',
    { class: 'rp-section', attrs: { 'data-section': 'keyImages' } },
    h('h2', { text: 'Key images' }),
    h(
      'ul',
      { class: 'rp-keys' },
      ...v.keyImages.map((k, n) => {
        const w = where(k.sopInstanceUid);
        const img = w
          ? h('img', { class: 'rp-key-img', attrs: { alt: `Key image ${n + 1}`, loading: 'lazy', src: `${root}dicom/instances/${encodeURIComponent(w.orthancId)}/frames/${Math.max(0, k.frame - 1)}/png?size=256` } })
          : null;
        return h(
          'li',
          { class: 'rp-key' },
          img,
          h('span', { class: 'rp-key-caption', text: [k.caption, w ? w.label : `Image ${k.sopInstanceUid}`, k.frame > 1 ? `frame ${k.frame}` : ''].filter(Boolean).join(' · ') }),
        );
      }),
    ),
  );
}

/** The report's body: sections, inserts, signature, corrections, addenda. */
function renderBody(report: Report, view: PrevailingView, study: StudyDetail | null, root: string): HTMLElement {
  const { content, original } = view;
  const sections = shownSections(report.template, content.fields).map((s) =>
    h(
      'section',
      { class: `rp-section${/impression|conclusion/i.test(`${s.id} ${s.title}`) ? ' rp-impression' : ''}`, attrs: { 'data-section': s.id } },
      h('h2', { text: s.title }),
      h(
        'dl',
        { class: `rp-fields${s.items.length === 1 && !s.items[0]?.label ? ' single' : ''}` },
        ...s.items.flatMap((i) => [
          i.label ? h('dt', { text: i.label }) : null,
          h('dd', { class: `rp-text${i.type === 'longtext' ? ' long' : ''}`, attrs: { 'data-field': i.id }, text: i.text }),
        ]),
      ),
    ),
  );
  const corrected = content !== original;
  return h(
    'article',
    { class: 'rp-doc', attrs: { 'data-version': content.version } },
    h('h1', { class: 'rp-title', text: report.template.title || 'Diagnostic imaging report' }),
    ...(sections.length ? sections : [h('p', { class: 'muted', text: 'The report has no filled fields.' })]),
    ...renderInserts(content, study, root),
    h(
      'p',
      { class: 'rp-signature' },
      `Electronically signed by ${signer(original)}${original.signedAt ? ` on ${formatInstant(original.signedAt)}` : ''}.`,
    ),
    ...view.corrections.map((c) =>
      h(
        'section',
        { class: 'rp-correction', attrs: { 'data-version': c.version } },
        h('h2', { text: `Correction (version ${c.version})` }),
        c.text ? h('p', { class: 'rp-text long' }, h('strong', { text: 'Reason: ' }), c.text) : null,
        h('p', { class: 'rp-signature', text: `Corrected and signed by ${signer(c)}${c.signedAt ? ` on ${formatInstant(c.signedAt)}` : ''}.` }),
      ),
    ),
    corrected ? h('p', { class: 'muted', text: 'The sections above are the corrected report.' }) : null,
    ...view.addenda.map((a, n) =>
      h(
        'section',
        { class: 'rp-addendum', attrs: { 'data-version': a.version } },
        h('h2', { text: `Addendum ${n + 1}` }),
        h('p', { class: 'rp-text long', text: a.text }),
        h('p', { class: 'rp-signature', text: `Signed by ${signer(a)}${a.signedAt ? ` on ${formatInstant(a.signedAt)}` : ''}.` }),
      ),
    ),
  );
}

/** The patient's other studies with their report state; finalized reports are links. */
export function renderHistory(priors: readonly Prior[], reports: readonly ReportRow[], currentReportId: string, viewImages = false): HTMLElement {
  const byStudy = new Map<string, ReportRow>();
  for (const r of reports) if (!byStudy.has(r.studyInstanceUid)) byStudy.set(r.studyInstanceUid, r);
  const rows: { uid: string; date: string; desc: string; mods: string; state: string; report: ReportRow | null }[] = priors.map((p) => {
    const r = byStudy.get(p.studyInstanceUid) ?? null;
    return { uid: p.studyInstanceUid, date: p.studyDate, desc: p.studyDescription, mods: formatModalities(imagingFirst(p.modalities)), state: r?.state ?? p.reportStatus ?? '', report: r };
  });
  // reports of studies the priors did not list (another source of the same patient's history)
  const listed = new Set(priors.map((p) => p.studyInstanceUid));
  for (const r of reports) {
    if (r.reportId === currentReportId || listed.has(r.studyInstanceUid)) continue;
    listed.add(r.studyInstanceUid);
    rows.push({ uid: r.studyInstanceUid, date: r.studyDate, desc: r.studyDescription, mods: formatModalities(imagingFirst(r.modalities)), state: r.state, report: r });
  }
  rows.sort((a, b) => b.date.localeCompare(a.date));
  const body = rows.length
    ? rows.map((r) =>
        h(
          'tr',
          { class: 'history-row', attrs: { 'data-uid': r.uid } },
          h('td', { text: formatDate(r.date) }),
          h('td', { class: 'c-desc', attrs: { title: r.desc || null }, text: r.desc }),
          h('td', { text: r.mods }),
          h('td', {}, r.state ? h('span', { class: 'report-badge', attrs: { 'data-report': r.state }, text: stateLabel(r.state) }) : h('span', { class: 'muted', text: 'No report' })),
          h(
            'td',
            { class: 'c-links' },
            r.report && (FINAL_STATES as readonly string[]).includes(r.report.state) ? h('a', { class: 'btn btn-link', attrs: { href: reportHash(r.report.reportId) }, text: 'Read report' }) : null,
            viewImages ? h('a', { class: 'btn btn-link', attrs: { href: studyHash(r.uid) }, text: 'Images' }) : null,
          ),
        ),
      )
    : [h('tr', {}, h('td', { attrs: { colspan: 5 } }, h('div', { class: 'state', text: 'No other studies of this patient.' })))];
  return h(
    'table',
    { class: 'history' },
    h('thead', {}, h('tr', {}, ...['Study date', 'Description', 'Mod.', 'Report', ''].map((t) => h('th', { attrs: { scope: 'col' }, text: t })))),
    h('tbody', {}, ...body),
  );
}

// The page: loads the report, then the study (identification, key images) and the history beside it;
// acknowledging re-renders with the server's answer.
export function mountReportPage(opts: ReportPageOptions): Page {
  const controller = new AbortController();
  const root = apiRoot();
  const actions = h('div', { class: 'topbar-right' });
  const note = h('div', { class: 'rp-note', attrs: { role: 'status' } });
  const content = h('main', { class: 'rp-content' }, h('div', { class: 'state' }, h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading report…'));
  const history = h('section', { class: 'rp-history', attrs: { 'aria-label': 'Patient history' } });
  const el = h(
    'div',
    { class: 'page report-page' },
    h('header', { class: 'topbar' }, h('a', { class: 'btn back', attrs: { href: lastReportsHash() }, text: '← Reports' }), actions),
    h('div', { class: 'rp-scroll' }, note, content, history),
  );
  document.title = 'Report · Reading Room';
  let study: StudyDetail | null = null;

  const render = (report: Report): void => {
    const view = prevailingView(report);
    actions.replaceChildren();
    append(
      actions,
      opts.viewImages ? h('a', { class: 'btn', attrs: { href: studyHash(report.studyInstanceUid), 'data-action': 'view-images' }, text: 'View images' }) : null,
      view ? h('a', { class: 'btn btn-primary', attrs: { href: pdfUrl(root, report.reportId), download: `report-${report.reportId}.pdf`, 'data-action': 'pdf' }, text: 'Download PDF' }) : null,
    );
    const stateLine = h(
      'p',
      { class: 'rp-state' },
      h('span', { class: 'report-badge', attrs: { 'data-report': report.state }, text: stateLabel(report.state) }),
      report.state === 'appended' ? ' An addendum was added after signing (below).' : report.state === 'corrected' ? ' This report was corrected after signing (see the correction note).' : '',
      report.stateReason && !withdrawnState(report.state) ? h('span', { class: 'muted', text: ` ${report.stateReason}` }) : null,
    );
    const withdrawn =
      withdrawnState(report.state)
        ? h(
            'div',
            { class: 'error rp-withdrawn', attrs: { role: 'alert', 'data-state': report.state } },
            h('strong', { text: report.state === 'cancelled' ? 'This report was cancelled before it was final.' : 'This report was entered in error and is withdrawn: do not use it.' }),
            report.stateReason ? h('span', { class: 'error-message', text: ` Reason: ${report.stateReason}` }) : null,
          )
        : null;
    content.replaceChildren(
      renderIdentity(study, report),
      withdrawn ?? '',
      stateLine,
      renderCritical(report, opts.username, () => void acknowledge(report)) ?? '',
      view ? renderBody(report, view, study, root) : h('div', { class: 'state', text: 'This report has no signed final version yet.' }),
    );
  };

  const acknowledge = async (report: Report): Promise<void> => {
    const btn = content.querySelector<HTMLButtonElement>('[data-action="acknowledge"]');
    if (btn) btn.disabled = true;
    note.replaceChildren();
    try {
      const updated = await acknowledgeReport(opts.api, report.reportId);
      if (controller.signal.aborted) return;
      render(updated);
      note.replaceChildren(h('span', { class: 'flash', attrs: { 'data-kind': 'ok' }, text: 'Critical result acknowledged.' }));
    } catch (err) {
      if (controller.signal.aborted) return;
      if (btn) btn.disabled = false;
      note.replaceChildren(errorAlert(document, 'Could not acknowledge', err));
    }
  };

  const loadHistory = async (report: Report): Promise<void> => {
    const patientId = study?.patientId ?? '';
    history.replaceChildren(h('h2', { text: 'Patient history' }), h('div', { class: 'state muted', text: 'Loading the patient’s other studies…' }));
    const [priors, reports] = await Promise.allSettled([
      studyPriors(opts.api, report.studyInstanceUid, controller.signal),
      patientId ? patientReports(opts.api, patientId, controller.signal) : Promise.resolve({ data: [], total: 0 }),
    ]);
    if (controller.signal.aborted) return;
    if (priors.status === 'rejected' && reports.status === 'rejected') {
      history.replaceChildren(h('h2', { text: 'Patient history' }), errorAlert(document, 'Could not load the patient’s other studies', priors.reason));
      return;
    }
    const others = (reports.status === 'fulfilled' ? reports.value.data : []).filter((r) => r.studyInstanceUid !== report.studyInstanceUid);
    history.replaceChildren(h('h2', { text: 'Patient history' }), renderHistory(priors.status === 'fulfilled' ? priors.value : [], others, report.reportId, opts.viewImages));
  };

  getReport(opts.api, opts.reportId, controller.signal)
    .then(async (report) => {
      rememberStudyBack({ href: reportHash(report.reportId), label: 'Report' });
      try {
        study = await opts.api.getStudy(report.studyInstanceUid, controller.signal);
        document.title = `${formatPersonName(study.patientName) || 'Report'} · Report · Reading Room`;
      } catch {
        study = null; // the report is shown without the study's identification
      }
      if (controller.signal.aborted) return;
      render(report);
      void loadHistory(report).catch((err: unknown) => {
        if (!controller.signal.aborted) history.replaceChildren(h('h2', { text: 'Patient history' }), h('p', { class: 'error', text: messageOf(err) }));
      });
    })
    .catch((err: unknown) => {
      if (controller.signal.aborted) return;
      const notFound = err instanceof Error && 'status' in err && (err as { status: number }).status === 404;
      content.replaceChildren(h('div', { class: 'state' }, errorAlert(document, notFound ? 'Report not found' : 'Could not load the report', err), h('a', { class: 'btn', attrs: { href: lastReportsHash() }, text: 'Back to reports' })));
    });

  return {
    el,
    destroy(): void {
      controller.abort();
    },
  };
}
