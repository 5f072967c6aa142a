// The "Report" tab of the study page (the "report" capability): opens the study's open report or offers
// "Start report" with the suggested template; writes the draft in the template's form (autosaved,
// report-autosave.ts), with macros, inserts from the study, the critical flag, and signs it (report-sign.ts);
// a signed report is shown read-only with its versions, PDF, outputs, "Add addendum", "Correct" and "Next".
//
// Template change: allowed while the draft is untouched (every field still its template default, the
// pre-filled comparison aside, nothing inserted, not critical): the draft is cancelled ("template changed")
// and a new report is created with the chosen template. Once something is written the template is kept;
// the tab says so (cancel the report to start again with another one).
//
// Hooks for tests: section[data-rr-report][data-state="loading"|"start"|"draft"|"signed"|"error"],
// .report-save-status[data-save-state], [data-action="report-start"|"report-sign"|"report-next"|...].
import { listAnalyses, getAnalysis, type Analysis } from './ai-api';
import { ApiError, type Api, type StudyDetail } from './api';
import { labelled, openFormDialog } from './dialog';
import { append, hIn } from './dom';
import { errorAlert, messageOf, retryButton } from './failure';
import { formatDate, formatInstant, formatModalities } from './format';
import { lastWorklistHash, studyHash } from './router';
import {
  addAddendum,
  addCorrection,
  cancelReport,
  createReport,
  emptyInserts,
  getReport,
  isEditable,
  isSignedFinal,
  latestVersion,
  listStudyReports,
  listTemplates,
  openReportOf,
  putDraft,
  signReport,
  templateDefaults,
  type DraftBody,
  type FieldValues,
  type Inserts,
  type Report,
  type Template,
} from './report-api';
import { DraftAutosave, draftKey, failureOutcome, loadStoredDraft, type StorageLike } from './report-autosave';
import { createReportForm, emptyFields, isEmptyValue, sameValue, type ReportForm } from './report-form';
import { aiCandidates, keyImageCandidates, measurementCandidates, renderInserts, toggleInsert, type Candidate, type InsertKind, type InsertRef } from './report-inserts';
import { createMacroBar, type MacroBar } from './report-macros';
import { findNextStudy } from './report-next';
import { openAddendumDialog, openCorrectionDialog, openSignDialog } from './report-sign';
import { renderSigned, signatureLine, stateBadge, versionPdfHref } from './report-versions';
import { readStudyAnnotations } from './viewer-annotations-wire';
import { decodePriors, type Prior } from './viewer-priors-model';

export interface ReportTabOptions {
  api: Api;
  study: StudyDetail;
  apiRoot: string;
  /** The logged-in user (the unsent draft is kept per user). */
  user: string | null;
  doc?: Document;
  storage?: StorageLike | null;
  debounceMs?: number;
  showImage?(sopInstanceUid: string, frame: number): Promise<boolean>;
  /** Opens a study page ("Next"); default: location.hash. */
  navigate?(hash: string): void;
  /** The worklist filter (default: the router's remembered worklist hash). */
  worklistHash?(): string;
  /** Poll interval of the outputs after a final signature (ms). */
  outputsPollMs?: number;
}

export interface ReportTab {
  el: HTMLElement;
  /** Shown again (the tab was selected): refreshes the study's measurements, key images and findings. */
  activate(): void;
  destroy(): void;
}

/** The comparison text of the priors the viewer knows ("2024-05-01 CT: CT CHEST"), one per line. */
export function comparisonText(priors: readonly Prior[]): string {
  return priors
    .slice(0, 5)
    .map((p) => [formatDate(p.studyDate) || 'undated', formatModalities(p.modalities)].filter(Boolean).join(' ') + (p.studyDescription ? `: ${p.studyDescription}` : ''))
    .join('\n');
}

/** The comparison field of a template: id "comparison", else the first text field of the section "comparison". */
export function comparisonField(t: Template): string | null {
  const all = t.sections.flatMap((s) => s.fields);
  if (all.some((f) => f.id === 'comparison' && (f.type === 'text' || f.type === 'longtext'))) return 'comparison';
  const s = t.sections.find((x) => x.id === 'comparison' || x.code === '18834-2');
  return s?.fields.find((f) => f.type === 'text' || f.type === 'longtext')?.id ?? null;
}

/**
 * True when the server's latest version already holds `change` (a save the server applied whose answer was
 * lost to a reload): the kept change is then dropped instead of offered again.
 */
export function alreadySaved(r: Report, change: DraftBody): boolean {
  const v = latestVersion(r);
  if (!v) return false;
  if (change.critical !== undefined && change.critical !== r.critical) return false;
  if (change.inserts && JSON.stringify(change.inserts) !== JSON.stringify(v.inserts)) return false;
  const f = change.fields ?? {};
  return Object.keys(f).every((k) => sameValue(f[k], v.fields[k]) || (isEmptyValue(f[k]) && isEmptyValue(v.fields[k])));
}

/** True while the draft has nothing of the radiologist (see the header comment). */
export function isUntouched(r: Report, values: FieldValues, inserts: Inserts, critical: boolean): boolean {
  if (r.state !== 'draft' || r.versions.length !== 1 || !r.template || critical) return false;
  if (inserts.aiFindings.length + inserts.measurements.length + inserts.keyImages.length > 0) return false;
  const defaults = templateDefaults(r.template);
  const skip = comparisonField(r.template);
  return Object.keys(defaults).every((k) => k === skip || sameValue(values[k], defaults[k]) || (isEmptyValue(values[k]) && isEmptyValue(defaults[k])));
}

function storageOf(o: ReportTabOptions): StorageLike | null {
  if (o.storage !== undefined) return o.storage;
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** How often the outputs of a signed report are looked at again (every outputsPollMs, default 3 s). */
const MAX_OUTPUT_POLLS = 60;

type Notice = { kind: 'error' | 'info' | 'ok' | 'warn'; text: string; actions?: { label: string; action: string; run(): void }[] };

// One controller per mounted tab: it holds the report shown, the form, the autosave and the candidates.
class ReportTabController {
  readonly el: HTMLElement;
  private readonly o: ReportTabOptions;
  private readonly doc: Document;
  private readonly api: Api;
  private readonly uid: string;
  private readonly body: HTMLElement;
  private readonly noticeArea: HTMLElement;
  private readonly life = new AbortController();
  private report: Report | null = null;
  private form: ReportForm | null = null;
  private saver: DraftAutosave | null = null;
  private macros: MacroBar | null = null;
  private inserts: Inserts = emptyInserts();
  private critical = false;
  private candidates: Candidate[] = [];
  private candidatesProblem = 'Loading the study\'s findings, measurements and key images…';
  private insertsSlot: HTMLElement | null = null;
  private saveStatus: HTMLElement | null = null;
  private templateSlot: HTMLElement | null = null;
  private templates: Template[] | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private outputPolls = 0;
  private destroyed = false;

  constructor(o: ReportTabOptions) {
    this.o = o;
    this.doc = o.doc ?? document;
    this.api = o.api;
    this.uid = o.study.studyInstanceUid;
    this.noticeArea = hIn(this.doc, 'div', { class: 'report-notices' });
    this.body = hIn(this.doc, 'div', { class: 'report-body' });
    this.el = hIn(
      this.doc,
      'section',
      { class: 'report-panel', attrs: { 'aria-label': 'Report', 'data-rr-report': '', 'data-state': 'loading' } },
      hIn(this.doc, 'div', { class: 'report-scroll' }, this.noticeArea, this.body),
    );
  }

  // ---- life cycle --------------------------------------------------------------
  start(): void {
    void this.load();
    void this.loadCandidates();
    // back online: a draft waiting for its next attempt is sent at once
    globalThis.addEventListener?.('online', this.online);
  }

  private readonly online = (): void => this.saver?.retryNow();

  destroy(): void {
    this.destroyed = true;
    globalThis.removeEventListener?.('online', this.online);
    this.life.abort();
    this.saver?.stop();
    this.macros?.destroy();
    if (this.pollTimer) clearTimeout(this.pollTimer);
  }

  activate(): void {
    if (this.report && isEditable(this.report)) void this.loadCandidates();
  }

  private setState(s: string): void {
    this.el.setAttribute('data-state', s);
  }

  private spinner(text: string): HTMLElement {
    return hIn(this.doc, 'div', { class: 'report-empty' }, hIn(this.doc, 'span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), hIn(this.doc, 'span', { text }));
  }

  private async load(): Promise<void> {
    this.setState('loading');
    this.body.replaceChildren(this.spinner('Loading the report…'));
    try {
      const reports = await listStudyReports(this.api, this.uid, this.life.signal);
      if (this.destroyed) return;
      const open = openReportOf(reports);
      if (open) this.show(open);
      else await this.showStart();
    } catch (err) {
      if (this.destroyed) return;
      this.setState('error');
      this.body.replaceChildren(hIn(this.doc, 'div', { class: 'report-empty' }, errorAlert(this.doc, 'Could not load the report', err), retryButton(this.doc, () => void this.load())));
    }
  }

  // ---- notices -------------------------------------------------------------------
  private notice(n: Notice | null): void {
    if (!n) {
      this.noticeArea.replaceChildren();
      return;
    }
    this.noticeArea.replaceChildren(
      hIn(
        this.doc,
        'div',
        { class: 'report-message', attrs: { 'data-kind': n.kind, role: n.kind === 'error' || n.kind === 'warn' ? 'alert' : 'status' } },
        hIn(this.doc, 'span', { class: 'report-message-text', text: n.text }),
        hIn(
          this.doc,
          'span',
          { class: 'report-message-actions' },
          ...(n.actions ?? []).map((a) => hIn(this.doc, 'button', { class: 'btn btn-small', attrs: { type: 'button', 'data-action': a.action }, text: a.label, on: { click: a.run } })),
          hIn(this.doc, 'button', { class: 'btn-link report-message-close', attrs: { type: 'button', 'aria-label': 'Dismiss' }, text: '×', on: { click: () => this.notice(null) } }),
        ),
      ),
    );
  }

  // ---- start ---------------------------------------------------------------------
  private async fetchTemplates(): Promise<{ list: Template[]; suggested: string | null }> {
    const t = await listTemplates(this.api, this.uid, this.life.signal);
    this.templates = t.data.filter((x) => !x.retired);
    return { list: this.templates, suggested: t.suggested };
  }

  private templateSelect(list: readonly Template[], selected: string | null): HTMLSelectElement {
    const select = hIn(this.doc, 'select', { class: 'text-input report-template-select', attrs: { 'aria-label': 'Template', 'data-rr-template': '' } });
    for (const t of list) select.appendChild(hIn(this.doc, 'option', { attrs: { value: t.id }, text: t.title }));
    if (selected && list.some((t) => t.id === selected)) select.value = selected;
    return select;
  }

  private async showStart(): Promise<void> {
    this.setState('loading');
    this.body.replaceChildren(this.spinner('Loading the templates…'));
    let list: Template[];
    let suggested: string | null;
    try {
      ({ list, suggested } = await this.fetchTemplates());
    } catch (err) {
      if (this.destroyed) return;
      this.setState('error');
      this.body.replaceChildren(hIn(this.doc, 'div', { class: 'report-empty' }, errorAlert(this.doc, 'Could not load the report templates', err), retryButton(this.doc, () => void this.showStart())));
      return;
    }
    if (this.destroyed) return;
    this.setState('start');
    const select = this.templateSelect(list, suggested);
    const start = hIn(this.doc, 'button', { class: 'btn btn-primary', attrs: { type: 'button', 'data-action': 'report-start', disabled: list.length === 0 }, text: 'Start report' });
    start.addEventListener('click', () => {
      start.disabled = true;
      start.textContent = 'Starting…';
      void this.create(select.value || null).finally(() => {
        start.disabled = false;
        start.textContent = 'Start report';
      });
    });
    const suggestedTitle = list.find((t) => t.id === suggested)?.title;
    this.body.replaceChildren(
      hIn(
        this.doc,
        'div',
        { class: 'report-start' },
        hIn(this.doc, 'p', { text: 'This study has no report yet.' }),
        labelled(this.doc, 'Template', select, suggestedTitle ? `Suggested for this study: ${suggestedTitle}` : list.length ? 'No template matches this study; choose one.' : 'No template is available: ask an administrator.'),
        hIn(this.doc, 'div', { class: 'report-actions' }, start),
      ),
    );
  }

  private async create(templateId: string | null): Promise<void> {
    try {
      const r = await createReport(this.api, this.uid, templateId);
      if (!this.destroyed) this.show(r);
    } catch (err) {
      if (this.destroyed) return;
      if (err instanceof ApiError && err.status === 409) {
        // someone (another tab) started one meanwhile: open it
        this.notice({ kind: 'info', text: 'A report of this study already exists; it is opened.' });
        await this.load();
        return;
      }
      this.notice({ kind: 'error', text: `Could not start the report: ${messageOf(err)}` });
    }
  }

  // ---- showing a report -------------------------------------------------------
  private show(r: Report): void {
    this.outputPolls = 0;
    this.saver?.stop();
    this.saver = null;
    this.macros?.destroy();
    this.macros = null;
    this.report = r;
    if (isEditable(r) && r.template) this.showEditor(r, r.template);
    else this.showSigned(r);
    // a new state starts at its top (the signature, the PDF, Next), not where the draft was scrolled
    const scroll = this.el.querySelector('.report-scroll');
    if (scroll) scroll.scrollTop = 0;
  }

  private showEditor(r: Report, t: Template): void {
    this.setState('draft');
    const latest = latestVersion(r);
    this.inserts = latest ? latest.inserts : emptyInserts();
    this.critical = r.critical;
    const key = draftKey(this.o.user, r.reportId);
    const storage = storageOf(this.o);
    let stored = loadStoredDraft(storage, key);
    if (stored && stored.etag !== r.etag && alreadySaved(r, stored.change)) {
      try {
        storage?.removeItem(key);
      } catch {
        /* storage off */
      }
      stored = null;
    }
    const values: FieldValues = { ...templateDefaults(t), ...(latest?.fields ?? {}) };
    let replay: DraftBody | null = null;
    if (stored && stored.etag === r.etag) {
      replay = stored.change;
      Object.assign(values, stored.change.fields ?? {});
      if (stored.change.inserts) this.inserts = stored.change.inserts;
      if (typeof stored.change.critical === 'boolean') this.critical = stored.change.critical;
      this.notice({ kind: 'info', text: `Unsaved changes from ${formatInstant(stored.at) || 'earlier'} were restored and are being saved.` });
    }

    this.form = createReportForm(this.doc, t, values, { onChange: (v) => this.edited({ fields: v }) });
    this.saveStatus = hIn(this.doc, 'span', { class: 'report-save-status small', attrs: { role: 'status', 'data-save-state': 'saved' }, text: 'Saved' });
    const critical = hIn(this.doc, 'input', { attrs: { type: 'checkbox', 'data-action': 'report-critical' } });
    critical.checked = this.critical;
    critical.addEventListener('change', () => {
      this.critical = critical.checked;
      this.edited({ critical: critical.checked });
    });
    this.macros = createMacroBar(this.doc, this.api);
    this.macros.track(this.form.textControls());
    this.insertsSlot = hIn(this.doc, 'div', { class: 'report-inserts-slot' });
    this.templateSlot = hIn(this.doc, 'div', { class: 'report-template-line' });
    const prelim = r.versions.filter((v) => v.status === 'preliminary').pop();
    const prelimHref = prelim ? versionPdfHref(this.o.apiRoot, r, prelim) : null;
    const sign = hIn(this.doc, 'button', { class: 'btn btn-primary', attrs: { type: 'button', 'data-action': 'report-sign' }, text: 'Sign…', on: { click: () => this.openSign() } });
    const cancel = hIn(this.doc, 'button', { class: 'btn btn-ghost', attrs: { type: 'button', 'data-action': 'report-cancel' }, text: 'Cancel report…', on: { click: () => this.openCancel() } });
    this.body.replaceChildren();
    append(
      this.body,
      hIn(this.doc, 'div', { class: 'report-head' }, stateBadge(this.doc, r.state), this.saveStatus),
      prelim ? hIn(this.doc, 'p', { class: 'small muted report-prelim' }, signatureLine(prelim), prelimHref ? ' · ' : null, prelimHref ? hIn(this.doc, 'a', { attrs: { href: prelimHref, target: '_blank', rel: 'noopener' }, text: 'PDF' }) : null) : null,
      this.templateSlot,
      this.macros.el,
      this.form.el,
      hIn(this.doc, 'label', { class: 'report-critical-toggle' }, critical, hIn(this.doc, 'span', { text: ' Critical finding (the communication is recorded when signing final)' })),
      this.insertsSlot,
      hIn(this.doc, 'div', { class: 'report-actions report-actions-main' }, sign, r.state === 'preliminary' ? this.nextButton() : null, cancel),
    );
    this.renderInsertsSlot();
    this.renderTemplateLine();
    this.saver = new DraftAutosave(
      {
        send: async (change, etag) => {
          try {
            return { ok: true, report: await putDraft(this.api, r.reportId, etag, change) };
          } catch (err) {
            return failureOutcome(err);
          }
        },
        storage,
        key,
        etag: r.etag,
        ...(this.o.debounceMs !== undefined ? { debounceMs: this.o.debounceMs } : {}),
        onState: (s, detail) => {
          if (!this.saveStatus) return;
          this.saveStatus.setAttribute('data-save-state', s);
          this.saveStatus.textContent = DraftAutosave.label(s, detail);
        },
        onSaved: (saved) => {
          this.report = saved;
          this.renderTemplateLine();
        },
        onConflict: (unsent, message) => void this.conflict(unsent, message),
      },
      replay,
    );
    if (stored && stored.etag !== r.etag) this.offerOldChanges(stored.change, stored.at);
    void this.prefillComparison(t);
  }

  private edited(change: DraftBody): void {
    this.saver?.change(change);
    this.renderTemplateLine();
  }

  private currentValues(): FieldValues {
    return this.form?.values() ?? {};
  }

  /** Changes kept from an older version of the report: applied only when the radiologist says so. */
  private offerOldChanges(change: DraftBody, at: string): void {
    this.notice({
      kind: 'warn',
      text: `Unsaved changes from ${formatInstant(at) || 'earlier'} were made on an older version of this report (it was saved elsewhere since). The server's version is shown.`,
      actions: [
        { label: 'Apply my changes', action: 'report-apply-unsent', run: () => this.applyChange(change) },
        {
          label: 'Discard them',
          action: 'report-discard-unsent',
          run: () => {
            this.saver?.discard();
            try {
              storageOf(this.o)?.removeItem(draftKey(this.o.user, this.report?.reportId ?? ''));
            } catch {
              /* storage off */
            }
            this.notice(null);
          },
        },
      ],
    });
  }

  private applyChange(change: DraftBody): void {
    if (change.fields && this.form) this.form.setValues({ ...this.form.values(), ...change.fields });
    if (change.inserts) this.inserts = change.inserts;
    if (typeof change.critical === 'boolean') {
      this.critical = change.critical;
      const box = this.body.querySelector<HTMLInputElement>('[data-action="report-critical"]');
      if (box) box.checked = change.critical;
    }
    this.renderInsertsSlot();
    this.saver?.change({ fields: this.currentValues(), inserts: this.inserts, critical: this.critical });
    this.notice({ kind: 'info', text: 'Your changes were applied; saving.' });
  }

  /** 412/409 on a save: the server's version is loaded and shown, the unsent change offered. */
  private async conflict(unsent: DraftBody, message: string): Promise<void> {
    const id = this.report?.reportId;
    if (!id) return;
    try {
      const fresh = await getReport(this.api, id, this.life.signal);
      if (this.destroyed) return;
      // keep the unsent change in storage under the new etag only if the radiologist applies it
      try {
        storageOf(this.o)?.removeItem(draftKey(this.o.user, id));
      } catch {
        /* storage off */
      }
      this.show(fresh);
      if (isEditable(fresh)) {
        this.notice({
          kind: 'warn',
          text: `This report was changed elsewhere (another window or user) and your last changes were not saved (${message}). The server's version is shown now.`,
          actions: [{ label: 'Apply my changes', action: 'report-apply-unsent', run: () => this.applyChange(unsent) }],
        });
      } else {
        this.notice({ kind: 'warn', text: `This report was signed or closed elsewhere; your last changes were not saved (${message}).` });
      }
    } catch (err) {
      if (!this.destroyed) this.notice({ kind: 'error', text: `The report was changed elsewhere and could not be reloaded: ${messageOf(err)}` });
    }
  }

  /** The comparison field, when empty, gets the priors the viewer knows. */
  private async prefillComparison(t: Template): Promise<void> {
    const fieldId = comparisonField(t);
    if (!fieldId || !this.form || !isEmptyValue(this.form.values()[fieldId])) return;
    try {
      const priors = await this.api.getJson(`dicom/studies/${encodeURIComponent(this.uid)}/priors`, decodePriors, this.life.signal);
      const form = this.form;
      if (this.destroyed || !form || priors.length === 0) return;
      const control = form.el.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[data-field="${CSS.escape(fieldId)}"]`);
      if (!control || control.value.trim() !== '' || this.doc.activeElement === control) return;
      control.value = comparisonText(priors);
      control.dispatchEvent(new Event('input', { bubbles: true }));
    } catch {
      /* priors unknown: the field stays empty */
    }
  }

  private renderTemplateLine(): void {
    const slot = this.templateSlot;
    const r = this.report;
    if (!slot || !r?.template) return;
    const untouched = isUntouched(r, this.currentValues(), this.inserts, this.critical);
    const title = hIn(this.doc, 'span', { class: 'report-template-title' }, hIn(this.doc, 'span', { class: 'muted', text: 'Template: ' }), r.template.title);
    if (!untouched) {
      slot.replaceChildren(title, hIn(this.doc, 'span', { class: 'small muted', attrs: { title: 'Cancel the report to start again with another template.' }, text: ' · kept once the report is written' }));
      return;
    }
    const change = hIn(this.doc, 'button', { class: 'btn-link', attrs: { type: 'button', 'data-action': 'report-change-template' }, text: 'Change…' });
    change.addEventListener('click', () => void this.openTemplateChange());
    slot.replaceChildren(title, ' ', change);
  }

  private async openTemplateChange(): Promise<void> {
    const r = this.report;
    if (!r) return;
    let list: Template[];
    try {
      list = this.templates ?? (await this.fetchTemplates()).list;
    } catch (err) {
      this.notice({ kind: 'error', text: `Could not load the templates: ${messageOf(err)}` });
      return;
    }
    const select = this.templateSelect(list, r.template?.id ?? null);
    openFormDialog(this.doc, {
      title: 'Change template',
      description: 'Nothing has been written yet: the draft is replaced by a new one with this template.',
      fields: [labelled(this.doc, 'Template', select)],
      submitLabel: 'Change template',
      onSubmit: async () => {
        if (select.value === r.template?.id) return;
        if (!isUntouched(r, this.currentValues(), this.inserts, this.critical)) throw new Error('The report has content now: the template is kept.');
        this.saver?.stop();
        await cancelReport(this.api, r.reportId, 'Template changed before writing');
        try {
          storageOf(this.o)?.removeItem(draftKey(this.o.user, r.reportId));
        } catch {
          /* storage off */
        }
        const fresh = await createReport(this.api, this.uid, select.value);
        this.show(fresh);
      },
    });
  }

  // ---- inserts -------------------------------------------------------------------
  private async loadCandidates(): Promise<void> {
    const [ai, ann] = await Promise.allSettled([this.loadAnalyses(), this.api.getJson(`dicom/studies/${encodeURIComponent(this.uid)}/annotations`, readStudyAnnotations, this.life.signal)]);
    if (this.destroyed) return;
    const out: Candidate[] = [];
    const problems: string[] = [];
    if (ai.status === 'fulfilled') out.push(...aiCandidates(ai.value));
    else if (!(ai.reason instanceof ApiError && (ai.reason.status === 404 || ai.reason.status === 403))) problems.push(`AI findings unavailable: ${messageOf(ai.reason)}`);
    if (ann.status === 'fulfilled') {
      out.push(...measurementCandidates(ann.value.data, this.o.study), ...keyImageCandidates(ann.value.keyImages, this.o.study));
    } else problems.push(`Measurements unavailable: ${messageOf(ann.reason)}`);
    this.candidates = out;
    this.candidatesProblem = problems.join(' · ');
    this.renderInsertsSlot();
  }

  /** The study's analyses; reviewed ones fetched whole (their review history gives the reviewed wording). */
  private async loadAnalyses(): Promise<Analysis[]> {
    const list = await listAnalyses(this.api, this.uid, this.life.signal);
    return Promise.all(
      list.map((a) => (a.status === 'completed' && (a.reviewStatus === 'confirmed' || a.reviewStatus === 'modified') && a.reviews === null ? getAnalysis(this.api, a.id, this.life.signal) : Promise.resolve(a))),
    );
  }

  private renderInsertsSlot(): void {
    if (!this.insertsSlot) return;
    const wasOpen = this.insertsSlot.querySelector('details.insert-from-study')?.hasAttribute('open') ?? true;
    const view = renderInserts(this.doc, {
      inserts: this.inserts,
      candidates: this.candidates,
      study: this.o.study,
      readOnly: false,
      problem: this.candidatesProblem,
      onToggle: (kind: InsertKind, ref: InsertRef) => {
        this.inserts = toggleInsert(this.inserts, kind, ref);
        this.renderInsertsSlot();
        this.edited({ inserts: this.inserts });
      },
      ...(this.o.showImage ? { onShow: (img: { sopInstanceUid: string; frame: number }) => void this.o.showImage?.(img.sopInstanceUid, img.frame) } : {}),
    });
    if (!wasOpen) view.querySelector('details.insert-from-study')?.removeAttribute('open');
    const refresh = hIn(this.doc, 'button', { class: 'btn-link small', attrs: { type: 'button', 'data-action': 'report-refresh-inserts', title: 'Look again for new measurements, key images and reviewed findings' }, text: 'Refresh' });
    refresh.addEventListener('click', () => void this.loadCandidates());
    view.querySelector('.insert-from-study > summary')?.append(' ', refresh);
    this.insertsSlot.replaceChildren(view);
  }

  // ---- signing -------------------------------------------------------------------
  private openSign(): void {
    const r = this.report;
    const t = r?.template;
    const form = this.form;
    if (!r || !t || !form) return;
    const values = form.values();
    const blocking = emptyFields(t, values, 'block');
    if (blocking.length) {
      form.highlight(blocking.map((f) => f.id));
      this.notice({ kind: 'warn', text: `Fill the required fields before signing: ${blocking.map((f) => f.label).join(', ')}.` });
      return;
    }
    openSignDialog(this.doc, {
      critical: this.critical,
      warnings: emptyFields(t, values, 'warn'),
      allowPreliminary: r.state === 'draft',
      sign: async (body) => {
        const saver = this.saver;
        if (saver && !(await saver.flush())) throw new Error('The draft could not be saved, so it was not signed. Check the connection and try again.');
        const signed = await signReport(this.api, r.reportId, saver?.currentEtag() ?? r.etag, body);
        saver?.stop();
        try {
          storageOf(this.o)?.removeItem(draftKey(this.o.user, r.reportId));
        } catch {
          /* storage off */
        }
        this.notice({ kind: 'ok', text: signed.state === 'preliminary' ? 'Signed as preliminary.' : 'Signed final.' });
        this.show(signed);
      },
      onIncomplete: (ids, message) => {
        form.highlight(ids);
        this.notice({ kind: 'warn', text: message });
      },
    });
  }

  private openCancel(): void {
    const r = this.report;
    if (!r) return;
    const reason = hIn(this.doc, 'input', { class: 'text-input', attrs: { type: 'text', name: 'reason', required: true, autocomplete: 'off' } });
    openFormDialog(this.doc, {
      title: 'Cancel report',
      description: 'The draft is kept in the report\'s history as cancelled; the study can then be reported again.',
      fields: [labelled(this.doc, 'Reason', reason)],
      submitLabel: 'Cancel report',
      onSubmit: async () => {
        this.saver?.stop();
        await cancelReport(this.api, r.reportId, reason.value.trim());
        try {
          storageOf(this.o)?.removeItem(draftKey(this.o.user, r.reportId));
        } catch {
          /* storage off */
        }
        this.report = null;
        this.notice({ kind: 'info', text: 'The report was cancelled.' });
        await this.showStart();
      },
    });
  }

  // ---- signed ----------------------------------------------------------------------
  private showSigned(r: Report): void {
    this.setState('signed');
    this.form = null;
    this.insertsSlot = null;
    this.saveStatus = null;
    this.templateSlot = null;
    const content = latestVersion(r);
    const actions = hIn(this.doc, 'div', { class: 'report-actions' });
    if (isSignedFinal(r)) {
      actions.append(
        hIn(this.doc, 'button', { class: 'btn', attrs: { type: 'button', 'data-action': 'report-addendum' }, text: 'Add addendum…', on: { click: () => this.openAddendum(r) } }),
        hIn(this.doc, 'button', { class: 'btn', attrs: { type: 'button', 'data-action': 'report-correct' }, text: 'Correct…', on: { click: () => this.openCorrection(r) } }),
      );
    }
    actions.append(this.nextButton(true));
    const inserts = renderInserts(this.doc, { inserts: content?.inserts ?? emptyInserts(), candidates: this.candidates, study: this.o.study, readOnly: true, ...(this.o.showImage ? { onShow: (img) => void this.o.showImage?.(img.sopInstanceUid, img.frame) } : {}) });
    this.body.replaceChildren(renderSigned(this.doc, { apiRoot: this.o.apiRoot, report: r, inserts, actions }));
    this.pollOutputs(r);
  }

  /**
   * After a final signature the archive copies are queued: their state is followed until they settle, for
   * at most MAX_OUTPUT_POLLS looks (a server that archives nothing, or a queue stuck for long, is not asked
   * for ever; the page shows the state it last saw).
   */
  private pollOutputs(r: Report): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    const busy = r.outputs.some((o) => o.state === 'queued' || o.state === 'running') || (isSignedFinal(r) && r.outputs.length === 0);
    if (!busy || this.destroyed || this.outputPolls >= MAX_OUTPUT_POLLS) return;
    this.outputPolls++;
    this.pollTimer = setTimeout(() => {
      void getReport(this.api, r.reportId, this.life.signal).then(
        (fresh) => {
          if (this.destroyed || this.report?.reportId !== fresh.reportId || isEditable(fresh)) return;
          this.report = fresh;
          const had = this.el.querySelector('.report-outputs');
          if (fresh.state === r.state && had) {
            const scrollTop = this.el.querySelector('.report-scroll')?.scrollTop ?? 0;
            this.showSigned(fresh);
            const s = this.el.querySelector('.report-scroll');
            if (s) s.scrollTop = scrollTop;
          } else this.showSigned(fresh);
        },
        () => undefined,
      );
    }, this.o.outputsPollMs ?? 3000);
  }

  private openAddendum(r: Report): void {
    openAddendumDialog(this.doc, {
      submit: async (password, text) => {
        const fresh = await addAddendum(this.api, r.reportId, password, text);
        this.notice({ kind: 'ok', text: 'Addendum signed.' });
        this.show(fresh);
      },
    });
  }

  private openCorrection(r: Report): void {
    const t = r.template;
    if (!t) return;
    const content = r.versions.filter((v) => v.status === 'final' && v.kind !== 'addendum').pop() ?? latestVersion(r);
    openCorrectionDialog(this.doc, {
      template: t,
      values: { ...templateDefaults(t), ...(content?.fields ?? {}) },
      submit: async (password, values, reason) => {
        const fresh = await addCorrection(this.api, r.reportId, password, values, reason);
        this.notice({ kind: 'ok', text: 'Correction signed.' });
        this.show(fresh);
      },
    });
  }

  /** "Next study →" (primary after a final signature; beside Sign on a preliminary report). */
  private nextButton(primary = false): HTMLButtonElement {
    const next = hIn(this.doc, 'button', { class: `btn${primary ? ' btn-primary' : ''}`, attrs: { type: 'button', 'data-action': 'report-next', title: 'The next unreported study of your worklist filter' }, text: 'Next study →' });
    next.addEventListener('click', () => void this.next(next));
    return next;
  }

  private async next(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    button.textContent = 'Finding the next study…';
    try {
      const uid = await findNextStudy(this.api, this.uid, (this.o.worklistHash ?? lastWorklistHash)());
      if (this.destroyed) return;
      if (!uid) {
        this.notice({ kind: 'info', text: 'No other unreported study matches your worklist filter.' });
        return;
      }
      (this.o.navigate ?? ((h: string) => (location.hash = h)))(studyHash(uid));
    } catch (err) {
      if (!this.destroyed) this.notice({ kind: 'error', text: `Could not find the next study: ${messageOf(err)}` });
    } finally {
      if (!this.destroyed) {
        button.disabled = false;
        button.textContent = 'Next study →';
      }
    }
  }
}

export function mountReportTab(o: ReportTabOptions): ReportTab {
  const c = new ReportTabController(o);
  c.start();
  return { el: c.el, activate: () => c.activate(), destroy: () => c.destroy() };
}
