// DICOM Segmentation (SEG) overlays (issue 10, "SEG overlaid on the series it references"): the pure part.
// Input: the SEG's tags as Orthanc's GET /instances/{id}/tags?short answers them (tags keyed "gggg,eeee",
// strings, sequences as arrays of objects) and the bytes of its file (GET /instances/{id}/file, allowed to
// every role with a viewer), from which the Pixel Data value is cut. Output: the segments (number, label,
// colour) and, per frame, the segment it belongs to, the image it lies on (Referenced SOP Instance UID of the
// Derivation Image Sequence, or else the instance of the study at the same Image Position (Patient)) and its
// mask. Binary SEGs (1 bit, frames packed without byte alignment) and 8-bit ones (fractional or label map:
// any value above 0 counts) in uncompressed transfer syntaxes; anything else is refused with a reason (the
// objects panel keeps its line for it). No DOM here (viewer-seg-view.ts draws).

import type { Instance, Series, StudyDetail } from './api';

type Dataset = Record<string, unknown>;

export interface Segment {
  number: number;
  label: string;
  /** sRGB 0..255 from Recommended Display CIELab Value, or a palette colour. */
  color: [number, number, number];
}

export interface SegFrame {
  /** 0-based frame index in the SEG. */
  index: number;
  segment: number;
  /** The image the frame lies on (SOP Instance UID) and its 1-based frame; null when not in the study. */
  sopInstanceUid: string | null;
  frame: number;
  /**
   * The frame's geometry from its functional groups (per-frame, else shared): Image Position (Patient) of its
   * first pixel, Image Orientation (Patient) (row then column cosines) and Pixel Spacing (between rows, between
   * columns), each null when the SEG does not give it (viewer-seg-volume.ts then takes the referenced image's).
   */
  position: [number, number, number] | null;
  orientation: number[] | null;
  pixelSpacing: [number, number] | null;
}

export interface SegModel {
  rows: number;
  columns: number;
  bitsAllocated: number;
  segments: Segment[];
  frames: SegFrame[];
  /** The image series of the study the frames lie on (the first that holds one of them), or null. */
  referencedSeriesUid: string | null;
}

/** Uncompressed transfer syntaxes whose Pixel Data this module can read. */
const PLAIN_TS = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);
/** Colours for segments without a recommended one (distinct on grey images). */
const PALETTE: Array<[number, number, number]> = [
  [255, 64, 64],
  [64, 200, 255],
  [255, 200, 0],
  [120, 230, 80],
  [230, 90, 230],
  [255, 140, 40],
];

function isObj(v: unknown): v is Dataset {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function seq(d: Dataset | undefined, tag: string): Dataset[] {
  const v = d?.[tag];
  return Array.isArray(v) ? v.filter(isObj) : [];
}
function str(d: Dataset | undefined, tag: string): string {
  const v = d?.[tag];
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
}
function num(d: Dataset | undefined, tag: string): number {
  const n = Number(str(d, tag).split('\\')[0]);
  return Number.isFinite(n) ? n : NaN;
}
function nums(d: Dataset | undefined, tag: string): number[] {
  const s = str(d, tag);
  return s ? s.split('\\').map(Number) : [];
}

/** DICOM CIELab (each 0..65535) to sRGB 0..255 (D65). */
export function dicomLabToRgb(lab: number[]): [number, number, number] {
  const L = ((lab[0] ?? 0) / 65535) * 100;
  const a = ((lab[1] ?? 32896) / 65535) * 255 - 128;
  const b = ((lab[2] ?? 32896) / 65535) * 255 - 128;
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - b / 200;
  const inv = (t: number): number => (t > 6 / 29 ? t ** 3 : 3 * (6 / 29) ** 2 * (t - 4 / 29));
  const [X, Y, Z] = [0.95047 * inv(fx), 1.0 * inv(fy), 1.08883 * inv(fz)];
  const lin = [3.2406 * X - 1.5372 * Y - 0.4986 * Z, -0.9689 * X + 1.8758 * Y + 0.0415 * Z, 0.0557 * X - 0.204 * Y + 1.057 * Z];
  const gamma = (c: number): number => Math.round(255 * Math.min(1, Math.max(0, c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055)));
  return [gamma(lin[0]!), gamma(lin[1]!), gamma(lin[2]!)];
}

/** The instance of the study's image series at a position (within 0.01 mm), for SEGs without references. */
function instanceAt(study: Pick<StudyDetail, 'series'>, ipp: number[]): Instance | null {
  if (ipp.length !== 3 || ipp.some((v) => !Number.isFinite(v))) return null;
  for (const s of study.series) {
    for (const i of s.instances) {
      const p = i.imagePositionPatient;
      if (p && Math.hypot(p[0] - ipp[0]!, p[1] - ipp[1]!, p[2] - ipp[2]!) < 0.01) return i;
    }
  }
  return null;
}

function seriesOf(study: Pick<StudyDetail, 'series'>, sop: string): Series | null {
  return study.series.find((s) => s.instances.some((i) => i.sopInstanceUid === sop)) ?? null;
}

/**
 * The SEG's segments and frames from its tags; throws an Error saying why a SEG cannot be shown (compressed,
 * unknown bit depth, no frames).
 */
export function segModel(tags: unknown, study: Pick<StudyDetail, 'series'>, transferSyntaxUid: string): SegModel {
  const root: Dataset = isObj(tags) ? tags : {};
  if (transferSyntaxUid && !PLAIN_TS.has(transferSyntaxUid)) throw new Error(`its transfer syntax (${transferSyntaxUid}) is not supported for overlays`);
  const rows = num(root, '0028,0010');
  const columns = num(root, '0028,0011');
  const bitsAllocated = num(root, '0028,0100');
  const count = Number.isFinite(num(root, '0028,0008')) ? num(root, '0028,0008') : 1;
  if (!(rows > 0 && columns > 0)) throw new Error('it has no rows and columns');
  if (bitsAllocated !== 1 && bitsAllocated !== 8) throw new Error(`${bitsAllocated} bits per pixel are not supported for overlays`);
  const segments: Segment[] = seq(root, '0062,0002').map((s, i) => {
    const lab = nums(s, '0062,000d');
    return {
      number: num(s, '0062,0004') || i + 1,
      label: str(s, '0062,0005') || `Segment ${num(s, '0062,0004') || i + 1}`,
      color: lab.length === 3 && lab.every(Number.isFinite) ? dicomLabToRgb(lab) : PALETTE[i % PALETTE.length]!,
    };
  });
  const perFrame = seq(root, '5200,9230');
  const shared = seq(root, '5200,9229')[0];
  const frames: SegFrame[] = [];
  let referencedSeriesUid: string | null = null;
  for (let index = 0; index < count; index++) {
    const f = perFrame[index];
    const segment = num(seq(f, '0062,000a')[0] ?? seq(shared, '0062,000a')[0], '0062,000b') || 1;
    const source = seq(seq(f, '0008,9124')[0], '0008,2112')[0];
    let sop = str(source, '0008,1155') || null;
    const frameNo = num(source, '0008,1160');
    if (!sop || !seriesOf(study, sop)) sop = instanceAt(study, nums(seq(f, '0020,9113')[0], '0020,0032'))?.sopInstanceUid ?? null;
    if (sop && referencedSeriesUid === null) referencedSeriesUid = seriesOf(study, sop)?.seriesInstanceUid ?? null;
    const group = (tag: string): Dataset | undefined => seq(f, tag)[0] ?? seq(shared, tag)[0];
    const position = nums(group('0020,9113'), '0020,0032');
    const orientation = nums(group('0020,9116'), '0020,0037');
    const spacing = nums(group('0028,9110'), '0028,0030');
    frames.push({
      index,
      segment,
      sopInstanceUid: sop,
      frame: Number.isFinite(frameNo) && frameNo > 0 ? frameNo : 1,
      position: position.length === 3 && position.every(Number.isFinite) ? [position[0]!, position[1]!, position[2]!] : null,
      orientation: orientation.length === 6 && orientation.every(Number.isFinite) ? orientation : null,
      pixelSpacing: spacing.length === 2 && spacing.every((v) => Number.isFinite(v) && v > 0) ? [spacing[0]!, spacing[1]!] : null,
    });
  }
  if (frames.length === 0) throw new Error('it has no frames');
  return { rows, columns, bitsAllocated, segments, frames, referencedSeriesUid };
}

/**
 * The Pixel Data value of a DICOM file in an uncompressed little-endian syntax: the (7FE0,0010) element
 * that ends the file (explicit VR "OB"/"OW" or implicit), found from the end: its length must reach the
 * file's last byte exactly, so a byte pattern inside the pixels is not taken for it.
 */
export function pixelDataOf(file: Uint8Array): Uint8Array {
  const u32 = (o: number): number => (file[o]! | (file[o + 1]! << 8) | (file[o + 2]! << 16)) + file[o + 3]! * 0x1000000;
  for (let o = file.length - 8; o >= 132; o--) {
    if (file[o] !== 0xe0 || file[o + 1] !== 0x7f || file[o + 2] !== 0x10 || file[o + 3] !== 0x00) continue;
    const vr = String.fromCharCode(file[o + 4]!, file[o + 5]!);
    if ((vr === 'OB' || vr === 'OW') && file[o + 6] === 0 && file[o + 7] === 0) {
      const len = u32(o + 8);
      if (o + 12 + len === file.length) return file.subarray(o + 12, o + 12 + len);
    }
    const len = u32(o + 4);
    if (o + 8 + len === file.length) return file.subarray(o + 8, o + 8 + len);
  }
  throw new Error('its Pixel Data could not be read');
}

/** One frame's mask (1 = in the segment), rows × columns, from the Pixel Data. */
export function frameMask(pixels: Uint8Array, model: Pick<SegModel, 'rows' | 'columns' | 'bitsAllocated'>, index: number): Uint8Array {
  const n = model.rows * model.columns;
  const out = new Uint8Array(n);
  if (model.bitsAllocated === 1) {
    // frames follow each other bit by bit (not byte-aligned); bit 0 of a byte is its first pixel
    const start = index * n;
    for (let p = 0; p < n; p++) {
      const bit = start + p;
      const byte = pixels[bit >> 3];
      if (byte !== undefined && (byte >> (bit & 7)) & 1) out[p] = 1;
    }
  } else {
    const start = index * n;
    for (let p = 0; p < n; p++) if ((pixels[start + p] ?? 0) > 0) out[p] = 1;
  }
  return out;
}

/** The frames of a model that lie on one image (instance and 1-based frame). */
export function framesOn(model: SegModel, sopInstanceUid: string, frame: number): SegFrame[] {
  return model.frames.filter((f) => f.sopInstanceUid === sopInstanceUid && f.frame === frame);
}

/** SEG series of a study (SOP Class Segmentation, or modality SEG). */
export function segSeries(study: Pick<StudyDetail, 'series'>): Series[] {
  return study.series.filter((s) => s.instances.some((i) => i.sopClassUid === '1.2.840.10008.5.1.4.1.1.66.4') || (s.modality === 'SEG' && s.instances.length > 0));
}
