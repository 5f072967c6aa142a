// Labels and texts of the AI analysis UI. Output is plain text: callers put it in textContent.
import type { Analysis } from './ai-api';

/** Colour family of a status badge. */
export type StatusKind = 'progress' | 'ok' | 'fail' | 'stopped' | 'unknown';

interface StatusText {
  /** Short label (badges). */
  label: string;
  /** Heading of the status message on the study page. */
  title: string;
  /** What happened, for a radiologist. */
  message: string;
  kind: StatusKind;
}

const NOT_NORMAL = 'No findings were produced: this does not mean the study is normal.';

const STATUS_TEXT: Record<string, StatusText> = {
  queued: { label: 'Queued', title: 'Queued', message: 'Waiting for a free AI worker…', kind: 'progress' },
  running: { label: 'Running', title: 'Analysing', message: 'The model is analysing the images…', kind: 'progress' },
  completed: { label: 'Completed', title: 'Completed', message: 'The model answered with structured findings.', kind: 'ok' },
  invalid: {
    label: 'Invalid',
    title: 'Answer did not validate',
    message: `The model answered, but not in the required findings format, so its answer cannot be shown as findings. ${NOT_NORMAL}`,
    kind: 'fail',
  },
  blocked: {
    label: 'Blocked',
    title: 'Blocked by the AI provider',
    message: `The AI provider blocked the request (content policy). ${NOT_NORMAL}`,
    kind: 'fail',
  },
  safety: {
    label: 'Safety stop',
    title: 'Stopped by a safety filter',
    message: `The provider's safety filter stopped the answer. ${NOT_NORMAL}`,
    kind: 'fail',
  },
  truncated: {
    label: 'Truncated',
    title: 'Answer cut off',
    message: `The answer reached the output token limit and is incomplete, so it is not shown. ${NOT_NORMAL}`,
    kind: 'fail',
  },
  refused: {
    label: 'Refused',
    title: 'Refused by the model',
    message: `The model declined to analyse these images. ${NOT_NORMAL}`,
    kind: 'fail',
  },
  failed: { label: 'Failed', title: 'Analysis failed', message: `The analysis could not be completed. ${NOT_NORMAL}`, kind: 'fail' },
  cancelled: {
    label: 'Cancelled',
    title: 'Cancelled',
    message: `The analysis was cancelled before it finished. ${NOT_NORMAL}`,
    kind: 'stopped',
  },
};

function statusText(status: string): StatusText {
  return (
    STATUS_TEXT[status] ?? {
      label: status || 'Unknown',
      title: 'Unknown status',
      message: `The server reported a status this app does not know ("${status}"). ${NOT_NORMAL}`,
      kind: 'unknown',
    }
  );
}

export const statusLabel = (status: string): string => statusText(status).label;
export const statusTitle = (status: string): string => statusText(status).title;
export const statusMessage = (status: string): string => statusText(status).message;
export const statusKind = (status: string): StatusKind => statusText(status).kind;

const REVIEW_LABELS: Record<string, string> = {
  pending: 'Pending review',
  confirmed: 'Confirmed',
  rejected: 'Rejected',
  modified: 'Modified',
};
/** "Pending review", "Confirmed"…; unknown values as received. short: "Pending" (worklist badges). */
export const reviewLabel = (status: string, short = false): string =>
  short && status === 'pending' ? 'Pending' : (REVIEW_LABELS[status] ?? status);

const CATEGORY_LABELS: Record<string, string> = {
  abnormality: 'Abnormality',
  normal_variant: 'Normal variant',
  artifact: 'Artifact',
  incidental: 'Incidental',
  technical: 'Technical',
  lesion: 'Lesion',
  fracture: 'Fracture',
  hemorrhage: 'Hemorrhage',
  device: 'Device',
};
export const categoryLabel = (category: string): string => CATEGORY_LABELS[category] ?? category;

const capitalised = (v: string): string => (v ? v.charAt(0).toUpperCase() + v.slice(1) : v);
/** "Low" | "Medium" | "High" (anything else as received). */
export const confidenceLabel = (c: string): string => (['low', 'medium', 'high'].includes(c) ? capitalised(c) : c);

export const SEVERITIES = ['normal', 'mild', 'moderate', 'severe', 'critical'] as const;
/** "Normal" … "Critical" (anything else as received). */
export const severityLabel = (s: string): string => ((SEVERITIES as readonly string[]).includes(s) ? capitalised(s) : s);
/** 0 (normal) … 4 (critical), -1 unknown: the number of filled pips of the severity badge. */
export const severityRank = (s: string): number => (SEVERITIES as readonly string[]).indexOf(s);

const CONFIDENCES = ['low', 'medium', 'high'] as const;
/** 0 (low) … 2 (high), -1 unknown. */
export const confidenceRank = (c: string): number => (CONFIDENCES as readonly string[]).indexOf(c);

/**
 * The order findings are shown in: severity first (critical, severe, moderate, mild, normal, then values the app
 * does not know), then confidence (high first), then the model's order. Returns the findings' indices (the index
 * stays a finding's identity: the review and its history name findings by it).
 */
export function findingOrder(findings: readonly { severity: string; confidence: string }[]): number[] {
  return findings
    .map((f, index) => ({ index, sev: severityRank(f.severity), conf: confidenceRank(f.confidence) }))
    .sort((a, b) => b.sev - a.sev || b.conf - a.conf || a.index - b.index)
    .map((x) => x.index);
}

const VERDICT_LABELS: Record<string, string> = { accepted: 'Accepted', rejected: 'Rejected', edited: 'Edited' };
export const verdictLabel = (v: string): string => VERDICT_LABELS[v] ?? v;

/** 1234567 -> "1,234,567" (locale-independent). */
export function groupDigits(n: number): string {
  const [int = '', frac] = String(Math.round(n * 1e6) / 1e6).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac ? `${grouped}.${frac}` : grouped;
}

/** The overall confidence: "High"; with the model's own score (older analyses) "High (score 72 %)"; "" when none. */
export function formatAiConfidence(band: string | null, score: number | null = null): string {
  if (!band) return '';
  return score === null ? confidenceLabel(band) : `${confidenceLabel(band)} (score ${Math.round(score * 100)} %)`;
}

/** 850 -> "850 ms", 12345 -> "12.3 s", 125000 -> "2 min 5 s"; null -> "". */
export function formatLatency(ms: number | null): string {
  if (ms === null || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** "1,234 in / 567 out tokens"; "" when both unknown. */
export function formatTokens(prompt: number | null, completion: number | null): string {
  if (prompt === null && completion === null) return '';
  const n = (v: number | null): string => (v === null ? '?' : groupDigits(v));
  return `${n(prompt)} in / ${n(completion)} out tokens`;
}

/** "cost 0.0123" (4 decimals below 1, else 2); "" when unknown. The currency is the price configuration's. */
export function formatCost(cost: number | null): string {
  if (cost === null || cost < 0) return '';
  return `cost ${cost < 1 ? cost.toFixed(4) : cost.toFixed(2)}`;
}

/** "gpt-x-2025-01 (requested gpt-x)", or whichever of the two is known. */
export function formatModel(a: Pick<Analysis, 'modelRequested' | 'modelVersion'>): string {
  const version = a.modelVersion.trim();
  const requested = a.modelRequested.trim();
  if (version && requested && version !== requested) return `${version} (requested ${requested})`;
  return version || requested;
}

/** "3 images sent" */
export function formatImages(n: number): string {
  return `${n} ${n === 1 ? 'image' : 'images'} sent`;
}

/** The provenance line's parts (model, provider, images, latency, tokens, cost, versions), empty ones left out. */
export function provenanceParts(a: Analysis): string[] {
  return [
    formatModel(a),
    a.provider,
    formatImages(a.images.length),
    formatLatency(a.latencyMs),
    formatTokens(a.usage.promptTokens, a.usage.completionTokens),
    formatCost(a.cost),
    a.attempts > 1 ? `${a.attempts} attempts` : '',
    a.promptVersion ? `prompt ${a.promptVersion}` : '',
    a.schemaVersion ? `schema ${a.schemaVersion}` : '',
  ].filter((p) => p.trim() !== '');
}
