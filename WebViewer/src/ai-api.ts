// AI analysis endpoints of the plugin's API (/api/ai/…) and the shape of an analysis.
//
// Everything in an analysis comes from the server or from an AI model: untrusted. parseAnalysis() only
// guarantees types (so rendering never breaks on a partial or odd answer); the strings are still to be
// shown as text only.
import type { Api } from './api';
import { bool, fields, id, isRecord, list, num, optArrayOf, str, strOrNull, strings, type JsonObject } from './decode';

/** Every status of an analysis. queued / running are in progress, the others are final. */
export const ANALYSIS_STATUSES = [
  'queued', 'running', 'completed', 'invalid', 'blocked', 'safety', 'truncated', 'refused', 'failed', 'cancelled',
] as const;
export type AnalysisStatus = (typeof ANALYSIS_STATUSES)[number];

export const REVIEW_STATUSES = ['pending', 'confirmed', 'rejected', 'modified'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];
/** What a reviewer may decide (pending is only the state before any review). */
export type ReviewDecision = Exclude<ReviewStatus, 'pending'>;

export type FindingVerdict = 'accepted' | 'rejected' | 'edited';

export interface Finding {
  /** 'lesion' | 'fracture' | 'hemorrhage' | 'device' | 'abnormality' | 'normal_variant' | 'artifact' | 'incidental' |
   * 'technical' (other values shown as received) */
  category: string;
  description: string;
  location: string;
  /** 'low' | 'medium' | 'high' */
  confidence: string;
  /** 'normal' | 'mild' | 'moderate' | 'severe' | 'critical' */
  severity: string;
}

export interface ReviewedFinding {
  index: number;
  verdict: string;
  text: string;
}

export interface Review {
  at: string;
  reviewer: string;
  reviewStatus: string;
  notes: string;
  findings: ReviewedFinding[];
}

export interface AnalysisImage {
  sopInstanceUid: string;
  frame: number;
  sha256: string;
}

export interface Analysis {
  id: string;
  studyInstanceUid: string;
  provider: string;
  modelRequested: string;
  modelVersion: string;
  /** One of ANALYSIS_STATUSES; an unknown value is kept as received. */
  status: string;
  requestedBy: string;
  requestedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  summary: string;
  findings: Finding[];
  recommendations: string[];
  /** The overall confidence, the original design's band; null when not given. */
  aiConfidence: ConfidenceBand | null;
  /** The model's own number (0..1) when it answered with one (analyses stored before findings-2); null otherwise. */
  aiConfidenceScore: number | null;
  images: AnalysisImage[];
  promptVersion: string;
  schemaVersion: string;
  usage: { promptTokens: number | null; completionTokens: number | null };
  latencyMs: number | null;
  /** Number (provider's currency, as configured) or null. */
  cost: number | null;
  /** '' when none. */
  error: string;
  /** The model's answer when it did not validate ('' otherwise). */
  rawText: string;
  reviewStatus: string;
  reviewedBy: string;
  reviewedAt: string | null;
  radiologistNotes: string;
  /** Review history, oldest first as sent; null when the answer left it out (list items). */
  reviews: Review[] | null;
}

/** Answer of POST ai/analyze/{uid}. */
export interface AnalyzeAnswer {
  id: string;
  status: string;
  href: string;
  /** true: an analysis of the study was already queued or running; it is the one answered. */
  existing: boolean;
}

export interface AiStatusInfo {
  provider: { configured: boolean; name: string; model: string; cloud: boolean; reachable: boolean | null; lastError: string };
  queue: { depth: number; running: number; concurrency: number };
  counts: Record<string, number>;
  /** Analyses requested since local midnight, their tokens, cost and images. */
  today: { analyses: number; promptTokens: number; completionTokens: number; cost: number | null; imagesSent: number };
  /** AI.AutoAnalyze: whether it is on, stable studies queued and dropped since Orthanc started. */
  automatic: { enabled: boolean; queuedSinceStart: number; droppedSinceStart: number };
}

/** Body of PUT ai/analysis/{id}/review. The reviewer is the session's user (the server sets it). */
export interface ReviewPayload {
  reviewStatus: ReviewDecision;
  radiologistNotes: string;
  findings: { index: number; verdict: FindingVerdict; text?: string }[];
}

export function isInProgress(status: string): boolean {
  return status === 'queued' || status === 'running';
}

/** Final: nothing will change any more (unknown statuses count as final: polling them forever helps nobody). */
export function isFinal(status: string): boolean {
  return !isInProgress(status);
}

// ---- parsing ----------------------------------------------------------------

export type ConfidenceBand = 'low' | 'medium' | 'high';
const BANDS: readonly string[] = ['low', 'medium', 'high'];

/** The band of a 0..1 score, with the server's thresholds (Plugin/ai/findings.c): below 0.4 low, below 0.7 medium. */
export function confidenceBand(score: number): ConfidenceBand {
  if (!(score >= 0.4)) return 'low';
  return score < 0.7 ? 'medium' : 'high';
}

const clamp01 = (n: number): number => Math.min(1, Math.max(0, n));

/** aiConfidence: a band in any letter case; a number (an older server's answer) becomes its band and the score. */
function parseConfidence(r: Record<string, unknown>): { band: ConfidenceBand | null; score: number | null } {
  const given = num(r.aiConfidenceScore);
  const n = num(r.aiConfidence);
  if (n !== null) return { band: confidenceBand(clamp01(n)), score: clamp01(given ?? n) };
  const s = str(r.aiConfidence).trim().toLowerCase();
  return { band: BANDS.includes(s) ? (s as ConfidenceBand) : null, score: given === null ? null : clamp01(given) };
}

function parseFinding(v: unknown): Finding {
  const r = fields(v);
  return {
    category: str(r.category),
    description: str(r.description),
    location: str(r.location),
    confidence: str(r.confidence),
    severity: str(r.severity),
  };
}

function parseReview(v: unknown): Review {
  const r = fields(v);
  return {
    at: str(r.at),
    reviewer: str(r.reviewer),
    reviewStatus: str(r.reviewStatus),
    notes: str(r.notes),
    findings: list(r.findings)
      .filter(isRecord)
      .map((f) => ({ index: num(f.index) ?? -1, verdict: str(f.verdict), text: str(f.text) }))
      .filter((f) => Number.isInteger(f.index) && f.index >= 0),
  };
}

/** Typed copy of an analysis answer; missing or mistyped fields get neutral values. */
export function parseAnalysis(body: unknown): Analysis {
  const r = fields(body);
  const usage = fields(r.usage);
  const confidence = parseConfidence(r);
  return {
    id: id(r.id),
    studyInstanceUid: str(r.studyInstanceUid),
    provider: str(r.provider),
    modelRequested: str(r.modelRequested),
    modelVersion: str(r.modelVersion),
    status: str(r.status),
    requestedBy: str(r.requestedBy),
    requestedAt: strOrNull(r.requestedAt),
    startedAt: strOrNull(r.startedAt),
    finishedAt: strOrNull(r.finishedAt),
    attempts: num(r.attempts) ?? 0,
    summary: str(r.summary),
    findings: list(r.findings).map(parseFinding),
    recommendations: strings(r.recommendations),
    aiConfidence: confidence.band,
    aiConfidenceScore: confidence.score,
    images: list(r.images)
      .filter(isRecord)
      .map((i) => ({ sopInstanceUid: str(i.sopInstanceUid), frame: num(i.frame) ?? 0, sha256: str(i.sha256) })),
    promptVersion: str(r.promptVersion),
    schemaVersion: str(r.schemaVersion),
    usage: { promptTokens: num(usage.promptTokens), completionTokens: num(usage.completionTokens) },
    latencyMs: num(r.latencyMs),
    cost: num(r.cost),
    error: str(r.error),
    rawText: str(r.rawText),
    reviewStatus: str(r.reviewStatus) || 'pending',
    reviewedBy: str(r.reviewedBy),
    reviewedAt: strOrNull(r.reviewedAt),
    radiologistNotes: str(r.radiologistNotes),
    reviews: Array.isArray(r.reviews) ? r.reviews.map(parseReview) : null,
  };
}

export function parseAnalyzeAnswer(body: unknown): AnalyzeAnswer {
  const r = fields(body);
  return { id: id(r.id), status: str(r.status) || 'queued', href: str(r.href), existing: r.existing === true };
}

export function parseAiStatus(body: unknown): AiStatusInfo {
  const r = fields(body);
  const p = fields(r.provider);
  const q = fields(r.queue);
  const c = fields(r.counts);
  const t = fields(r.today);
  const au = fields(r.automatic);
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) if (typeof v === 'number') counts[k] = v;
  return {
    provider: {
      configured: p.configured === true,
      name: str(p.name),
      model: str(p.model),
      cloud: p.cloud === true,
      reachable: bool(p.reachable),
      lastError: str(p.lastError),
    },
    queue: { depth: num(q.depth) ?? 0, running: num(q.running) ?? 0, concurrency: num(q.concurrency) ?? 0 },
    counts,
    today: {
      analyses: num(t.analyses) ?? 0,
      promptTokens: num(t.promptTokens) ?? 0,
      completionTokens: num(t.completionTokens) ?? 0,
      cost: num(t.cost),
      imagesSent: num(t.imagesSent) ?? 0,
    },
    automatic: {
      enabled: au.enabled === true,
      queuedSinceStart: num(au.queuedSinceStart) ?? 0,
      droppedSinceStart: num(au.droppedSinceStart) ?? 0,
    },
  };
}

// ---- endpoints ----------------------------------------------------------------

const seg = encodeURIComponent;

/** POST ai/analyze/{uid}: {} or {"force": true} (a new analysis even though the study has one). */
export function analyzeStudy(api: Api, studyInstanceUid: string, force = false): Promise<AnalyzeAnswer> {
  return api.decoded('POST', `ai/analyze/${seg(studyInstanceUid)}`, parseAnalyzeAnswer, { body: force ? { force: true } : {} });
}

export function getAnalysis(api: Api, analysisId: string, signal?: AbortSignal): Promise<Analysis> {
  return api.getJson(`ai/analysis/${seg(analysisId)}`, parseAnalysis, signal);
}

/** Answer of GET ai/studies/{uid}/analyses: "analyses" (absent: none); items without an id are dropped. */
export function parseAnalysisList(body: JsonObject | null): Analysis[] {
  return optArrayOf(fields(body).analyses, 'analyses', parseAnalysis).filter((a) => a.id !== '');
}

/** The study's analyses, newest first. */
export function listAnalyses(api: Api, studyInstanceUid: string, signal?: AbortSignal): Promise<Analysis[]> {
  return api.getJson(`ai/studies/${seg(studyInstanceUid)}/analyses`, parseAnalysisList, signal);
}

/** POST ai/analysis/{id}/cancel; 409 (ApiError) when it had already finished. */
export function cancelAnalysis(api: Api, analysisId: string): Promise<Analysis> {
  return api.decoded('POST', `ai/analysis/${seg(analysisId)}/cancel`, parseAnalysis);
}

/** PUT ai/analysis/{id}/review; 409 (ApiError) when the analysis is not completed. */
export function submitReview(api: Api, analysisId: string, payload: ReviewPayload): Promise<Analysis> {
  return api.decoded('PUT', `ai/analysis/${seg(analysisId)}/review`, parseAnalysis, { body: payload });
}

/** GET ai/status; check = true asks the provider now (?check=true), which may take up to its connect timeout. */
export function getAiStatus(api: Api, signal?: AbortSignal, check = false): Promise<AiStatusInfo> {
  return api.getJson(check ? 'ai/status?check=true' : 'ai/status', parseAiStatus, signal);
}
