// "Next" after signing: the next unreported study of the radiologist's current worklist filter, opened without
// going back to the list. The filter is the worklist hash the router remembers (router.ts lastWorklistHash,
// written by worklist.ts; its query is query.ts's state). The worklist API is asked with that filter, from its
// first page, plus report=unreported; the first study that is not the current one is opened.
import type { Api, Study, StudyQuery } from './api';
import { parseState, toApiQuery } from './query';

/** How many rows are asked: the current study may still be listed (its answer can lag), so a few. */
export const NEXT_LIMIT = 5;

/** The worklist query of "Next" from a worklist hash ("#/?mod=CT&page=3"). */
export function nextStudyQuery(worklistHash: string): StudyQuery & { report: string } {
  const q = worklistHash.indexOf('?');
  const state = parseState(q >= 0 ? worklistHash.slice(q + 1) : '');
  state.page = 1;
  return { ...toApiQuery(state), limit: NEXT_LIMIT, offset: 0, report: 'unreported' };
}

/** The first study of the answer that is not `currentUid` (null when none). */
export function chooseNext(rows: readonly Pick<Study, 'studyInstanceUid'>[], currentUid: string): string | null {
  return rows.find((s) => s.studyInstanceUid !== '' && s.studyInstanceUid !== currentUid)?.studyInstanceUid ?? null;
}

/** Asks the worklist API; resolves the next study's UID or null. */
export async function findNextStudy(api: Api, currentUid: string, worklistHash: string): Promise<string | null> {
  const list = await api.listStudies(nextStudyQuery(worklistHash));
  return chooseNext(list.data, currentUid);
}
