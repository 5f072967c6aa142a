// The basic viewer (issue 10, "Roles"): which viewer a role gets, from the capabilities the server lists
// (GET auth/me, read by the real Session). Referring physicians: the viewer, but nothing that writes and no AI;
// technicians: no viewer. No role is faked in a browser for this: physicians cannot open a study yet (the
// study check allows only studies with a final report), so the option logic is checked here.
import { describe, expect, it } from 'vitest';
import { OPEN_MODE } from '../src/capabilities';
import { modeName, viewerMode } from '../src/viewer-mode';
import { capabilitiesOf } from './fake-server';

describe('viewer mode from the capabilities', () => {
  it('a physician gets the basic viewer: no tools that write, no AI', async () => {
    const mode = viewerMode(await capabilitiesOf('physician'));
    expect(mode).toEqual({ viewer: true, canAnnotate: false, canAi: false });
    expect(modeName(mode)).toBe('basic');
  });

  it('a technician gets no viewer (and so nothing in it)', async () => {
    expect(viewerMode(await capabilitiesOf('technician'))).toEqual({ viewer: false, canAnnotate: false, canAi: false });
  });

  it('a radiologist and an admin get AI; they write when the server lists "annotate"', async () => {
    for (const role of ['radiologist', 'admin']) {
      const caps = await capabilitiesOf(role);
      const mode = viewerMode(caps);
      expect(mode.viewer).toBe(true);
      expect(mode.canAi).toBe(true);
      expect(mode.canAnnotate).toBe(caps.includes('annotate' as never));
    }
    expect(viewerMode(['worklist', 'study', 'ai', 'annotate'])).toEqual({ viewer: true, canAnnotate: true, canAi: true });
    expect(modeName(viewerMode(['worklist', 'study', 'ai', 'annotate']))).toBe('full');
  });

  it('"annotate" or "ai" without "study" gives nothing; a missing or unknown list is least privilege', async () => {
    expect(viewerMode(['worklist', 'annotate', 'ai'])).toEqual({ viewer: false, canAnnotate: false, canAi: false });
    expect(viewerMode(await capabilitiesOf('physician', 'not a list'))).toEqual({ viewer: false, canAnnotate: false, canAi: false });
    expect(viewerMode(await capabilitiesOf('future-role', ['worklist', 'study', 'annotate-everything']))).toEqual({
      viewer: true,
      canAnnotate: false,
      canAi: false,
    });
  });

  it('a server without access control opens the viewer', async () => {
    expect(viewerMode(await capabilitiesOf(OPEN_MODE)).viewer).toBe(true);
  });
});
