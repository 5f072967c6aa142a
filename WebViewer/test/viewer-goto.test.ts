import { describe, expect, it } from 'vitest';
import type { Instance, Series } from '../src/api';
import { createShowImage, frameNumber, locateImage, type ShowImageHost } from '../src/viewer-goto';
import { stackImages } from '../src/viewer-model';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SR = '1.2.840.10008.5.1.4.1.1.88.22';

function inst(orthancId: string, opts: { sopClassUid?: string; frames?: number; z?: number | null } = {}): Instance {
  return {
    sopInstanceUid: `1.2.3.${orthancId}`,
    orthancId,
    sopClassUid: opts.sopClassUid ?? CT,
    instanceNumber: null,
    numberOfFrames: opts.frames ?? 1,
    imagePositionPatient: opts.z === undefined || opts.z === null ? null : [0, 0, opts.z],
    imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    transferSyntaxUid: '1.2.840.10008.1.2',
  };
}

function series(uid: string, instances: Instance[]): Series {
  return { seriesInstanceUid: uid, orthancId: `o-${uid}`, seriesNumber: 1, modality: 'CT', seriesDescription: uid, bodyPartExamined: '', instanceCount: instances.length, instances };
}

// the API's display order: a CT of 5 slices, a multi-frame instance, a series with an SR and an image
const study = {
  series: [
    series('s-ct', [inst('a', { z: 0 }), inst('b', { z: 2 }), inst('c', { z: 4 }), inst('d', { z: 6 }), inst('e', { z: 8 })]),
    series('s-mf', [inst('mf', { frames: 12 })]),
    series('s-mixed', [inst('sr', { sopClassUid: SR }), inst('img')]),
  ],
};

describe('locateImage: an image of the study by SOP Instance UID and 1-based frame', () => {
  it('finds the series and the index in the stack the viewer builds', () => {
    const at = locateImage(study, '1.2.3.d', 1);
    expect(at?.series.seriesInstanceUid).toBe('s-ct');
    expect(at?.index).toBe(3);
    expect(at?.orthancId).toBe('d');
    expect(at?.frame0).toBe(0);
    // the index is the stack's own (what data-rr-image-index shows)
    const stack = stackImages(study.series[0]!, '/');
    expect(stack[at!.index]!.sopInstanceUid).toBe('1.2.3.d');
  });

  it('multi-frame: frame n (1-based) is stack index n-1; past the last frame is no image', () => {
    expect(locateImage(study, '1.2.3.mf', 1)?.index).toBe(0);
    expect(locateImage(study, '1.2.3.mf', 7)).toMatchObject({ index: 6, frame0: 6 });
    expect(locateImage(study, '1.2.3.mf', 12)?.index).toBe(11);
    expect(locateImage(study, '1.2.3.mf', 13)).toBeNull();
  });

  it('frame 0 or below is taken as 1 (a caller with a 0-based single frame still finds it)', () => {
    expect(locateImage(study, '1.2.3.b', 0)?.index).toBe(1);
    expect(locateImage(study, '1.2.3.b', -3)?.index).toBe(1);
    expect(locateImage(study, '1.2.3.mf', 0)?.index).toBe(0);
    expect(frameNumber(2.7)).toBe(2);
    expect(frameNumber(Number.NaN)).toBeNull();
  });

  it('skips the objects that are not images: the index counts images only', () => {
    expect(locateImage(study, '1.2.3.img', 1)).toMatchObject({ index: 0, orthancId: 'img' });
    expect(locateImage(study, '1.2.3.sr', 1)).toBeNull();
  });

  it('unknown UID, a second frame of a single-frame image, empty input: null', () => {
    expect(locateImage(study, '9.9.9', 1)).toBeNull();
    expect(locateImage(study, '1.2.3.a', 2)).toBeNull();
    expect(locateImage(study, '', 1)).toBeNull();
    expect(locateImage({ series: [] }, '1.2.3.a', 1)).toBeNull();
  });
});

/** A host standing for viewer.ts: one active viewport with a stack. */
function fakeViewer(opts: { ready?: boolean; failLoad?: boolean } = {}) {
  let shown: Series | null = study.series[1]!;
  let index = 0;
  const calls: string[] = [];
  const viewport = {
    getCurrentImageIdIndex: () => index,
    setImageIdIndex: async (i: number) => {
      calls.push(`scroll ${i}`);
      index = i;
    },
  };
  const host: ShowImageHost = {
    study,
    orthancRoot: '/',
    ready: () => opts.ready ?? true,
    shownSeries: () => shown,
    load: async (s) => {
      calls.push(`load ${s.seriesInstanceUid}`);
      if (opts.failLoad) throw new Error('cannot decode');
      shown = s;
      index = 0;
    },
    viewport: () => viewport,
    shown: (at) => calls.push(`shown ${at.orthancId}`),
  };
  return { host, calls, index: () => index, shown: () => shown };
}

describe('createShowImage: the viewer navigation contract', () => {
  it('loads the series holding the image into the active viewport, then scrolls to it', async () => {
    const v = fakeViewer();
    const showImage = createShowImage(v.host);
    expect(await showImage('1.2.3.c', 1)).toBe(true);
    expect(v.calls).toEqual(['load s-ct', 'scroll 2', 'shown c']);
    expect(v.shown()?.seriesInstanceUid).toBe('s-ct');
    expect(v.index()).toBe(2);
  });

  it('a series already shown is only scrolled; the image already shown changes nothing', async () => {
    const v = fakeViewer();
    const showImage = createShowImage(v.host);
    expect(await showImage('1.2.3.mf', 5)).toBe(true);
    expect(v.calls).toEqual(['scroll 4', 'shown mf']);
    expect(await showImage('1.2.3.mf', 5)).toBe(true);
    expect(v.calls).toEqual(['scroll 4', 'shown mf', 'shown mf']);
  });

  it('false, changing nothing, for an image the study does not have or a viewer that cannot show images', async () => {
    const v = fakeViewer();
    expect(await createShowImage(v.host)('9.9.9', 1)).toBe(false);
    expect(await createShowImage(v.host)('1.2.3.sr', 1)).toBe(false);
    const off = fakeViewer({ ready: false });
    expect(await createShowImage(off.host)('1.2.3.c', 1)).toBe(false);
    expect([...v.calls, ...off.calls]).toEqual([]);
  });

  it('never rejects: a failed load answers false', async () => {
    const v = fakeViewer({ failLoad: true });
    await expect(createShowImage(v.host)('1.2.3.c', 1)).resolves.toBe(false);
  });

  it('false when the viewport is not a stack viewport', async () => {
    const v = fakeViewer();
    const showImage = createShowImage({ ...v.host, viewport: () => ({}) });
    expect(await showImage('1.2.3.mf', 2)).toBe(false);
  });
});
