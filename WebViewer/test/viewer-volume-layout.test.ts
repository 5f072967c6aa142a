// Back from a volume layout to 2D (viewer-volume-layout.ts applyStackState): the kept window is set before the
// nearest image is shown, so that image's first frame is drawn at it (the browser check is the MPR test's
// "back to 2D", which reads the overlay at the first image shown).
import { describe, expect, it } from 'vitest';
import type { Types } from '@cornerstonejs/core';
import type { Series } from '../src/api';
import { applyStackState } from '../src/viewer-volume-layout';

const inst = (z: number, uid: string) => ({
  orthancId: uid, sopInstanceUid: uid, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: null, numberOfFrames: 1,
  imagePositionPatient: [0, 0, z], imageOrientationPatient: [1, 0, 0, 0, 1, 0],
});
const series = { seriesInstanceUid: 's', orthancId: 's', seriesNumber: 1, modality: 'CT', seriesDescription: '', bodyPartExamined: '', instanceCount: 3, instances: [inst(0, 'a'), inst(3, 'b'), inst(6, 'c')] } as unknown as Series;

/** A stack viewport that records what is called on it, in order. */
function recorder(index: number) {
  const calls: string[] = [];
  const vp = {
    getCurrentImageIdIndex: () => index,
    setImageIdIndex: async (i: number) => { calls.push(`image ${i}`); index = i; },
    setProperties: (p: { voiRange?: { lower: number; upper: number } }) => { calls.push(`voi ${p.voiRange?.lower} ${p.voiRange?.upper}`); },
    render: () => { calls.push('render'); },
  };
  return { vp: vp as unknown as Types.IStackViewport, calls };
}

describe('applyStackState', () => {
  it('sets the window, then shows the nearest image, then renders', async () => {
    const { vp, calls } = recorder(0);
    await applyStackState(vp, { series, window: { center: 400, width: 1800 }, point: [0, 0, 5.5] });
    expect(calls).toEqual(['voi -500 1299', 'image 2', 'render']);
  });
  it('keeps the image when it is the nearest one already, and the window when there is none', async () => {
    const { vp, calls } = recorder(1);
    await applyStackState(vp, { series, window: null, point: [0, 0, 2.9] });
    expect(calls).toEqual(['render']);
  });
});
