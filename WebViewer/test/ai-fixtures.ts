// Analyses as the server answers them (GET /api/ai/analysis/{id}), for the AI tests.
import { parseAnalysis, type Analysis } from '../src/ai-api';

export const XSS = '<img src=x onerror=alert(1)>';

export function analysisBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'a1',
    studyInstanceUid: '1.2.3',
    provider: 'openai',
    modelRequested: 'stand-in',
    modelVersion: 'stand-in-2026-01',
    status: 'completed',
    requestedBy: 'rad.one',
    requestedAt: '2026-11-24T10:00:00Z',
    startedAt: '2026-11-24T10:00:01Z',
    finishedAt: '2026-11-24T10:00:13Z',
    attempts: 1,
    summary: 'Small nodule in the right upper lobe.',
    findings: [
      { category: 'abnormality', description: 'Nodule 6 mm', location: 'right upper lobe', confidence: 'medium', severity: 'moderate' },
      { category: 'incidental', description: 'Small hiatal hernia', location: 'oesophagus', confidence: 'high', severity: 'mild' },
      { category: 'artifact', description: 'Motion artifact', location: '', confidence: 'low', severity: 'normal' },
    ],
    recommendations: ['CT follow-up in 6 months'],
    aiConfidence: 'high',
    images: [
      { sopInstanceUid: '1.2.3.4.1', frame: 0, sha256: 'ab' },
      { sopInstanceUid: '1.2.3.4.2', frame: 0, sha256: 'cd' },
    ],
    promptVersion: 'p-1',
    schemaVersion: 'findings-2',
    usage: { promptTokens: 1234, completionTokens: 567 },
    latencyMs: 12345,
    cost: 0.0123,
    error: '',
    rawText: '',
    reviewStatus: 'pending',
    reviewedBy: '',
    reviewedAt: null,
    radiologistNotes: '',
    reviews: [],
    ...overrides,
  };
}

export function analysis(overrides: Record<string, unknown> = {}): Analysis {
  return parseAnalysis(analysisBody(overrides));
}

/** Every final status that is not completed, with the error text the server would give. */
export const FAILURES: Record<string, string> = {
  invalid: 'findings[0].severity: must be one of normal, mild, moderate, severe, critical',
  blocked: 'prompt blocked: OTHER',
  safety: 'finish reason SAFETY',
  truncated: 'finish reason MAX_TOKENS after 8192 tokens',
  refused: 'the model refused: I cannot help with that',
  failed: 'provider answered HTTP 500 three times',
  cancelled: 'cancelled by rad.one',
};
