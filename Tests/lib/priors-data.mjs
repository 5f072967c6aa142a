// Studies made for the priors tests (integration and browser): copies of ../shared/dicom CT and MR files with
// new Study/Series/SOP Instance UIDs, Frame of Reference UIDs, patient and study dates (dcmodify, in a temporary
// folder removed at exit). One patient with three studies, one other patient:
//
//   current  RR-PRIORS-1  20240301  "CT Thorax current"   FoR F1
//     1 CT "ThoraxRoutine 8.0.0 B40f" CHEST, the 30 axial slices of ct_chest_lung_30
//     2 CT "Thorax every second slice" CHEST, 15 of them (same positions, same FoR)
//     3 CT "Localizer coronal" CHEST, 2 images made coronal (IOP 1\0\0\0\0\-1) in front of the stack, same FoR
//   prior    RR-PRIORS-1  20230101  "CT Thorax prior"     FoR F2
//     1 MR "T1post" BRAIN (3 images), 2 CT "Lung 1mm" CHEST (3 images), 3 CT "ThoraxRoutine 8.0.0 B40f" CHEST (30)
//   newest   RR-PRIORS-1  20250101  "MR Brain"            3 MR images
//   other    RR-PRIORS-2  20240101  "CT other patient"    2 CT images (must never be listed)
import { copyFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { newUid, tempDir } from './dicom.mjs';
import { dicomFilesOf, execFile } from './orthanc.mjs';

export const PATIENT = 'RR-PRIORS-1';
export const OTHER_PATIENT = 'RR-PRIORS-2';
export const CT_DESCRIPTION = 'ThoraxRoutine 8.0.0 B40f';

async function copies(dir, prefix, files) {
  const out = [];
  for (const [n, f] of files.entries()) {
    const to = path.join(dir, `${prefix}-${String(n).padStart(3, '0')}.dcm`);
    await copyFile(f, to);
    await chmod(to, 0o644);
    out.push(to);
  }
  return out;
}

/** dcmodify the files in one call: new SOP Instance UIDs, `set` inserted or overwritten. */
async function modify(files, set) {
  const args = ['-nb', '-gin'];
  for (const [tag, value] of Object.entries(set)) args.push('-i', `${tag}=${value}`);
  await execFile('dcmodify', [...args, ...files]);
}

function studyTags(patient, name, uid, date, description) {
  return {
    '(0010,0020)': patient,
    '(0010,0010)': name,
    '(0020,000d)': uid,
    '(0008,0020)': date,
    '(0008,0030)': '100000',
    '(0008,1030)': description,
    '(0008,0050)': `A${date}`,
  };
}

function seriesTags(uid, number, modality, description, bodyPart, forUid) {
  return {
    '(0020,000e)': uid,
    '(0020,0011)': String(number),
    '(0008,0060)': modality,
    '(0008,103e)': description,
    '(0018,0015)': bodyPart,
    '(0020,0052)': forUid,
  };
}

/** Builds the files; returns their paths by study and the UIDs. */
export async function makePriorsData() {
  const dir = await tempDir('rr-priors-');
  const ct = await dicomFilesOf('ct_chest_lung_30');
  const mr = (await dicomFilesOf('mr_brain_t1post_24')).slice(8, 11);
  const uid = {
    current: newUid(), prior: newUid(), newest: newUid(), other: newUid(),
    forCurrent: newUid(), forPrior: newUid(), forNewest: newUid(), forOther: newUid(),
    ctFull: newUid(), ctHalf: newUid(), localizer: newUid(), priorMr: newUid(), priorLung: newUid(), priorCt: newUid(),
    newestMr: newUid(), otherCt: newUid(),
  };
  const cur = studyTags(PATIENT, 'PRIORS^TEST', uid.current, '20240301', 'CT Thorax current');
  const pri = studyTags(PATIENT, 'PRIORS^TEST', uid.prior, '20230101', 'CT Thorax prior');
  const nwe = studyTags(PATIENT, 'PRIORS^TEST', uid.newest, '20250101', 'MR Brain');
  const oth = studyTags(OTHER_PATIENT, 'OTHER^PATIENT', uid.other, '20240101', 'CT other patient');

  const ctFull = await copies(dir, 'cur-ct', ct);
  await modify(ctFull, { ...cur, ...seriesTags(uid.ctFull, 1, 'CT', CT_DESCRIPTION, 'CHEST', uid.forCurrent) });
  const ctHalf = await copies(dir, 'cur-half', ct.filter((_, i) => i % 2 === 0));
  await modify(ctHalf, { ...cur, ...seriesTags(uid.ctHalf, 2, 'CT', 'Thorax every second slice', 'CHEST', uid.forCurrent) });
  // a coronal localizer in front of the stack: rows along +x, columns along −z (feet), starting above the top slice
  const localizer = await copies(dir, 'cur-loc', ct.slice(0, 2));
  for (const [n, f] of localizer.entries()) {
    await modify([f], {
      ...cur,
      ...seriesTags(uid.localizer, 3, 'CT', 'Localizer coronal', 'CHEST', uid.forCurrent),
      '(0020,0037)': '1\\0\\0\\0\\0\\-1',
      '(0020,0032)': `-173.1767578125\\${-150 + 40 * n}\\330`,
      '(0020,0013)': String(n + 1),
    });
  }
  const priorMr = await copies(dir, 'pri-mr', mr);
  await modify(priorMr, { ...pri, ...seriesTags(uid.priorMr, 1, 'MR', 'T1post', 'BRAIN', uid.forPrior) });
  const priorLung = await copies(dir, 'pri-lung', ct.slice(10, 13));
  await modify(priorLung, { ...pri, ...seriesTags(uid.priorLung, 2, 'CT', 'Lung 1mm', 'CHEST', uid.forPrior) });
  const priorCt = await copies(dir, 'pri-ct', ct);
  await modify(priorCt, { ...pri, ...seriesTags(uid.priorCt, 3, 'CT', CT_DESCRIPTION, 'CHEST', uid.forPrior) });
  const newestMr = await copies(dir, 'new-mr', mr);
  await modify(newestMr, { ...nwe, ...seriesTags(uid.newestMr, 1, 'MR', 'T1post', 'HEAD', uid.forNewest) });
  const otherCt = await copies(dir, 'oth-ct', ct.slice(0, 2));
  await modify(otherCt, { ...oth, ...seriesTags(uid.otherCt, 1, 'CT', CT_DESCRIPTION, 'CHEST', uid.forOther) });
  return {
    dir,
    uid,
    files: {
      current: [...ctFull, ...ctHalf, ...localizer],
      prior: [...priorMr, ...priorLung, ...priorCt],
      newest: newestMr,
      other: otherCt,
    },
  };
}
