// "Save to archive" and SR measurement reports in the viewer (issue 10).
//
// Save: the study's measurements as the plugin's store keeps them (GET /api/dicom/studies/{uid}/annotations;
// the store is the record, cornerstone's annotation state only a view of it) are written with
// @cornerstonejs/adapters' MeasurementReport.generateReport as a DICOM SR TID 1500 (Comprehensive SR) in a
// new series of the same study ("Reading Room measurements", the saving user as Person Observer), the
// patient and study modules copied from the referenced images, and POSTed as Part 10 bytes to
// /api/dicom/studies/{uid}/measurement-reports (README). The viewer says what was saved and what failed.
// Only with the "annotate" capability (ViewerOptions.canAnnotate).
//
// Load: a TID 1500 SR already in the study is read when the viewer opens the study — a radiologist expects
// measurements made before (in OHIF, by a colleague, by an earlier "Save to archive") to be on the images
// without hunting for the SR series, as the store's are; clicking the SR series still shows it as a
// document (viewer-objects-view.ts). The SR is fetched through Orthanc's /instances/{id}/file, its
// referenced SOP Instance UID + frame mapped to the viewer's imageIds, and MeasurementReport.generateToolState
// gives the annotations, added to cornerstone's annotation state locked (read-only) with
// data.rrSource = 'sr' (the measurement panel lists them as "from the archive"). Those that repeat a
// measurement of the store (same image, tool and points: an SR this viewer wrote) are not shown twice.
// Nothing read from an SR is written into the store.
//
// DOM text only. Hooks for tests: the status line .viewer-sr-status (data-rr-sr-state), the list of loaded
// measurements .viewer-sr-loaded li (data-sop, data-frame, data-tool).

import { imageLoader, metaData, type RenderingEngine } from '@cornerstonejs/core';
import {
  addTool,
  AngleTool,
  annotation as csAnnotation,
  ArrowAnnotateTool,
  BidirectionalTool,
  CircleROITool,
  CobbAngleTool,
  EllipticalROITool,
  LengthTool,
  PlanarFreehandROITool,
  ProbeTool,
  RectangleROITool,
  type Types as ToolTypes,
} from '@cornerstonejs/tools';
import { adaptersSR } from '@cornerstonejs/adapters';
import dcmjs from 'dcmjs';
import type { Api, StudyDetail } from './api';
import { h } from './dom';
import {
  dicomDateTime,
  imageIndex,
  imageKey,
  nextSeriesNumber,
  personName,
  planReport,
  savedMessage,
  sameGeometry,
  SR_SERIES_DESCRIPTION,
  srSeriesOf,
  type SrAnnotation,
  type StoredAnnotation,
} from './viewer-sr-model';

const { MeasurementReport } = adaptersSR.Cornerstone3D;
const TOOL_CLASSES = [LengthTool, AngleTool, CobbAngleTool, BidirectionalTool, EllipticalROITool, RectangleROITool, CircleROITool, PlanarFreehandROITool, ProbeTool, ArrowAnnotateTool];
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';

type ToolGroup = NonNullable<ReturnType<typeof import('@cornerstonejs/tools').ToolGroupManager.getToolGroup>>;

export interface SrOptions {
  study: StudyDetail;
  apiRoot: string;
  orthancRoot: string;
  api: Pick<Api, 'headersFor'> | null;
  canAnnotate: boolean;
  /** The signed-in user's name (the report's Person Observer). */
  user: string | null;
  engine: () => RenderingEngine | null;
}

export interface SrControl {
  /** The "Save to archive" button (none without canAnnotate). */
  toolbar: HTMLElement[];
  /** The status line and the list of measurements loaded from SRs. */
  element: HTMLElement;
  /** After cornerstone is up and the tool group exists (undefined: a study without images, only said why): load the study's TID 1500 SRs. */
  start(tools: ToolGroup | undefined): Promise<void>;
  destroy(): void;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Reads an HTTP error answer's sentence ({"error": {"message"}}), or the status. */
async function failureOf(r: Response): Promise<string> {
  try {
    const j = (await r.json()) as { error?: { message?: string } };
    if (j.error?.message) return j.error.message;
  } catch {
    /* not JSON */
  }
  return `HTTP ${r.status}`;
}

/** The first item of a naturalized sequence (dcmjs gives arrays, sometimes a lone object). */
function first<T>(v: T | T[] | undefined): T | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** What an SR's measurements are drawn on: the images its SCOORD items are selected from (SOP Instance UID,
 * frame), and how many SCOORD3D items (world coordinates, no image) it has. The Image Library's and the
 * segmentations' references are not places to draw. */
function spatialReferences(ds: Record<string, unknown>): { images: Array<[string, number]>; scoord3d: number } {
  const images: Array<[string, number]> = [];
  let scoord3d = 0;
  const items = (v: unknown): Record<string, unknown>[] =>
    (Array.isArray(v) ? v : v ? [v] : []).filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
  const walk = (list: unknown, depth: number): void => {
    if (depth > 64) return;
    for (const it of items(list)) {
      if (it.ValueType === 'SCOORD3D') scoord3d += 1;
      if (it.ValueType === 'SCOORD') {
        for (const img of items(it.ContentSequence)) {
          const ref = first(img.ReferencedSOPSequence as Record<string, unknown> | Record<string, unknown>[] | undefined);
          if (ref && typeof ref.ReferencedSOPInstanceUID === 'string') {
            const f = Number(first(ref.ReferencedFrameNumber as number | number[] | undefined) ?? 1);
            images.push([ref.ReferencedSOPInstanceUID, Number.isInteger(f) && f > 0 ? f : 1]);
          }
        }
      }
      walk(it.ContentSequence, depth + 1);
    }
  };
  walk(ds.ContentSequence, 0);
  return { images, scoord3d };
}

/** The tools that draw what an SR holds: registered and in the tool group (enabled: drawn, not drawing). */
function ensureTools(tools: ToolGroup): void {
  for (const t of TOOL_CLASSES) {
    addTool(t);
    if (!tools.hasTool(t.toolName)) {
      tools.addTool(t.toolName);
      tools.setToolEnabled(t.toolName);
    }
  }
}

export function createSr(opts: SrOptions): SrControl {
  const { study } = opts;
  const status = h('div', { class: 'viewer-sr-status muted', attrs: { role: 'status', 'aria-live': 'polite', 'data-rr-sr-state': 'idle' } });
  const list = h('ul', { class: 'viewer-sr-items' });
  const summary = h('summary', { text: '' });
  const loaded = h('details', { class: 'viewer-sr-loaded', attrs: { hidden: '' } }, summary, list);
  const element = h('div', { class: 'viewer-sr' }, status, loaded);
  const saveButton = h('button', {
    class: 'viewer-tool',
    text: 'Save to archive',
    attrs: { type: 'button', title: "Save this study's measurements into the archive as a DICOM SR (TID 1500)", 'data-rr-tool': 'save-sr' },
  });
  const index = imageIndex(study, opts.orthancRoot);
  const added: string[] = [];
  let destroyed = false;
  let lastSeriesNumber = 0;

  const say = (text: string, state: string): void => {
    status.textContent = text;
    status.setAttribute('data-rr-sr-state', state);
  };

  const annotationsUrl = `${opts.apiRoot.endsWith('/') ? opts.apiRoot : `${opts.apiRoot}/`}dicom/studies/${encodeURIComponent(study.studyInstanceUid)}`;

  const storedAnnotations = async (): Promise<StoredAnnotation[]> => {
    const r = await fetch(`${annotationsUrl}/annotations`, { credentials: 'same-origin', headers: opts.api?.headersFor('GET', false) ?? {} });
    if (!r.ok) throw new Error(`the measurements could not be read: ${await failureOf(r)}`);
    const j = (await r.json()) as { data?: unknown };
    return Array.isArray(j.data) ? (j.data as StoredAnnotation[]) : [];
  };

  /** The report of the planned measurements as Part 10 bytes. */
  const buildReport = async (toolState: Record<string, unknown>, imageIds: string[]): Promise<{ bytes: ArrayBuffer; seriesNumber: number; sop: string }> => {
    // the adapters read the referenced images' metadata (plane, patient, study) from the loader
    await Promise.all(imageIds.map((id) => imageLoader.loadAndCacheImage(id)));
    const seriesNumber = Math.max(nextSeriesNumber(study), lastSeriesNumber + 1); // a second save in this session
    const now = dicomDateTime(new Date());
    const report = MeasurementReport.generateReport(toolState, metaData, {
      SeriesDescription: SR_SERIES_DESCRIPTION,
      SeriesNumber: String(seriesNumber),
      InstanceNumber: 1,
      Manufacturer: 'Orthanc Reading Room',
      ManufacturerModelName: 'Reading Room viewer',
      SoftwareVersions: '1',
      DeviceSerialNumber: '1',
      SeriesDate: now.date,
      SeriesTime: now.time,
      ContentDate: now.date,
      ContentTime: now.time,
      PersonName: personName(opts.user ?? 'Unknown'),
    }) as { dataset: Record<string, unknown> };
    const ds = report.dataset;
    completeDataset(ds, now);
    ds._meta = { TransferSyntaxUID: { Value: [EXPLICIT_LE] } };
    const dict = dcmjs.data.datasetToDict(ds);
    return { bytes: dict.write() as ArrayBuffer, seriesNumber, sop: String(ds.SOPInstanceUID) };
  };

  const save = async (): Promise<void> => {
    saveButton.disabled = true;
    say('Saving the measurements to the archive…', 'saving');
    try {
      const plan = planReport(await storedAnnotations(), index);
      if (plan.count === 0) {
        say(
          plan.skipped.length
            ? `Nothing saved: none of the ${plan.skipped.length} measurements can be written (${plan.skipped[0]!.reason}).`
            : 'Nothing saved: this study has no measurements of its own yet.',
          'empty',
        );
        return;
      }
      const built = await buildReport(plan.toolState, plan.imageIds);
      const r = await fetch(`${annotationsUrl}/measurement-reports`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { ...(opts.api?.headersFor('POST', true) ?? {}), 'Content-Type': 'application/dicom' },
        body: built.bytes,
      });
      if (!r.ok) throw new Error(`the archive refused the report: ${await failureOf(r)}`);
      const answer = (await r.json()) as { orthancId?: string; seriesInstanceUid?: string };
      lastSeriesNumber = built.seriesNumber;
      say(savedMessage(plan.count, built.seriesNumber, plan.skipped.length), 'saved');
      status.setAttribute('data-rr-sr-orthanc-id', answer.orthancId ?? '');
      status.setAttribute('data-rr-sr-series', answer.seriesInstanceUid ?? '');
    } catch (e) {
      say(`Not saved to the archive: ${errorText(e)}. The measurements are still kept in the Reading Room.`, 'failed');
    } finally {
      saveButton.disabled = false;
    }
  };

  /** One SR instance's measurements onto the images; returns how many were added and why others were not. */
  const loadOne = async (orthancId: string, store: StoredAnnotation[], tools: ToolGroup | undefined): Promise<{ added: number; missing: number; duplicate: number; other: string | null }> => {
    const r = await fetch(`${opts.orthancRoot}instances/${encodeURIComponent(orthancId)}/file`, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const dict = dcmjs.data.DicomMessage.readFile(await r.arrayBuffer());
    const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict) as Record<string, unknown>;
    ds._meta = dcmjs.data.DicomMetaDictionary.namifyDataset(dict.meta);
    const template = first(ds.ContentTemplateSequence as Record<string, unknown> | Record<string, unknown>[] | undefined)?.TemplateIdentifier;
    if (String(template ?? '') !== '1500') return { added: 0, missing: 0, duplicate: 0, other: 'not a TID 1500 measurement report' };
    const { images: refs, scoord3d } = spatialReferences(ds);
    const present = refs.filter(([sop, f]) => index.has(imageKey(sop, f)));
    const missing = refs.length - present.length;
    const map: Record<string, string> = {};
    for (const [sop, f] of present) {
      const id = index.get(imageKey(sop, f))!;
      map[imageKey(sop, f)] = id;
      if (f === 1) map[sop] = id;
    }
    if (present.length === 0) {
      const why = refs.length
        ? `not shown: none of the ${refs.length} images its measurements are drawn on is in this study`
        : scoord3d > 0
          ? `not shown: its ${scoord3d} measurements are in 3D patient coordinates (SCOORD3D), which this viewer does not place on images`
          : 'not shown: its measurements are not drawn on images (volumetric or segmentation measurements)';
      return { added: 0, missing: 0, duplicate: 0, other: why };
    }
    // the adapters place points with the images' geometry: an image that cannot be read drops its measurements
    const unreadable = new Set<string>();
    await Promise.all([...new Set(Object.values(map))].map((id) => imageLoader.loadAndCacheImage(id).catch(() => unreadable.add(id))));
    for (const [k, id] of Object.entries(map)) if (unreadable.has(id)) delete map[k];
    if (tools) ensureTools(tools);
    const state = MeasurementReport.generateToolState(ds, map, metaData, {}) as Record<string, Array<{ annotation?: SrAnnotation; sopInstanceUid?: string }>>;
    let count = 0;
    let duplicate = 0;
    for (const [tool, items] of Object.entries(state)) {
      for (const item of items) {
        const a = item.annotation;
        const imageId = a?.metadata.referencedImageId;
        if (!a || !imageId || !a.data.handles?.points?.length) continue;
        const where = [...index.entries()].find(([, id]) => id === imageId)?.[0] ?? '';
        const [sop, frame] = [where.slice(0, where.lastIndexOf(':')), Number(where.slice(where.lastIndexOf(':') + 1))];
        if (store.some((s) => sameGeometry(s, sop, frame, tool, a.data.handles.points))) {
          duplicate += 1;
          continue;
        }
        a.metadata.toolName = tool;
        a.data.rrSource = 'sr';
        a.isLocked = true;
        a.isVisible = true;
        csAnnotation.state.addAnnotation(a as unknown as ToolTypes.Annotation, a.metadata.FrameOfReferenceUID ?? '');
        csAnnotation.locking.setAnnotationLocked(a.annotationUID, true);
        added.push(a.annotationUID);
        count += 1;
        list.appendChild(
          h('li', { text: `${tool}${a.data.label ? ` "${a.data.label}"` : ''}`, attrs: { 'data-sop': sop, 'data-frame': String(frame), 'data-tool': tool, 'data-image-id': imageId } }),
        );
      }
    }
    return { added: count, missing, duplicate, other: null };
  };

  const start = async (tools: ToolGroup | undefined): Promise<void> => {
    const srs = srSeriesOf(study);
    if (srs.length === 0 || destroyed) return;
    say('Reading the measurement reports of the archive…', 'loading');
    let store: StoredAnnotation[] = [];
    try {
      store = await storedAnnotations();
    } catch {
      store = []; // without the store nothing is a repeat
    }
    let total = 0;
    let missing = 0;
    let duplicate = 0;
    const problems: string[] = [];
    for (const s of srs) {
      for (const inst of s.instances) {
        if (destroyed) return;
        try {
          const r = await loadOne(inst.orthancId, store, tools);
          total += r.added;
          missing += r.missing;
          duplicate += r.duplicate;
          if (r.other) problems.push(`series ${s.seriesNumber ?? '?'} "${s.seriesDescription}": ${r.other}`);
        } catch (e) {
          problems.push(`series ${s.seriesNumber ?? '?'} "${s.seriesDescription}" could not be read (${errorText(e)})`);
        }
      }
    }
    opts.engine()?.render();
    const parts: string[] = [];
    if (total > 0) parts.push(`${total} measurement${total === 1 ? '' : 's'} from the archive shown (read-only)`);
    if (duplicate > 0) parts.push(`${duplicate} already in the Reading Room`);
    if (missing > 0) parts.push(`${missing} on images that are not in this study`);
    parts.push(...problems);
    summary.textContent = `From the archive: ${total} measurement${total === 1 ? '' : 's'}`;
    if (total > 0) loaded.hidden = false;
    say(parts.length ? `${parts.join('; ')}.` : 'The measurement reports hold no measurements on these images.', total > 0 ? 'loaded' : 'none');
  };

  saveButton.addEventListener('click', () => void save());

  return {
    toolbar: opts.canAnnotate ? [saveButton] : [],
    element,
    start,
    destroy: () => {
      destroyed = true;
      for (const uid of added.splice(0)) {
        try {
          csAnnotation.state.removeAnnotation(uid);
        } catch {
          /* already gone with the rendering engine */
        }
      }
    },
  };
}

/** What generateReport leaves out or sets for research use, completed for a clinical SR (dciodvfy). */
function completeDataset(ds: Record<string, unknown>, now: { date: string; time: string }): void {
  ds.SOPClassUID ??= COMPREHENSIVE_SR;
  ds.Modality = 'SR';
  ds.SpecificCharacterSet = 'ISO_IR 192';
  ds.InstanceCreationDate = now.date;
  ds.InstanceCreationTime = now.time;
  ds.ContentQualification = undefined;
  ds.ImageComments = undefined;
  for (const k of ['ClinicalTrialTimePointID', 'ClinicalTrialCoordinatingCenterName', 'ClinicalTrialSeriesID']) delete ds[k];
  for (const k of Object.keys(ds)) if (ds[k] === undefined) delete ds[k];
  ds.ReferencedPerformedProcedureStepSequence ??= [];
  ds.PerformedProcedureCodeSequence ??= [];
}
