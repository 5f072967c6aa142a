// @vitest-environment happy-dom
// Capture (viewer-capture.ts): the audit request's body and path, file names without patient data, and the
// order of things: the PNG is saved only after the server recorded the capture; a refusal saves nothing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api } from '../src/api';
import { captureBody, captureFileName, capturePath, createCapture, scaleFont, type CaptureSource } from '../src/viewer-capture';
import { FakeServer, json } from './fake-server';

const image = { studyInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4.5', frame: 2, seriesNumber: 3, imageIndex: 67 };

describe('capture: wire format and names', () => {
  it('sends the contract members only, to the study route', () => {
    expect(captureBody(image, false)).toEqual({ sopInstanceUid: '1.2.3.4.5', frame: 2, burnedIn: false });
    expect(capturePath('1.2.840.1')).toBe('dicom/studies/1.2.840.1/captures');
  });

  it('names files by series and image numbers only', () => {
    expect(captureFileName(image, false)).toBe('capture-series3-image67.png');
    expect(captureFileName({ seriesNumber: null, imageIndex: 1 }, true)).toBe('capture-seriesx-image1-overlays.png');
  });

  it('scales the overlay font to the canvas pixels', () => {
    expect(scaleFont({ fontStyle: 'normal', fontWeight: '600', fontSize: '12px', fontFamily: 'sans-serif' }, 2)).toBe('normal 600 24px sans-serif');
  });
});

describe('capture: audit first, then the file', () => {
  afterEach(() => vi.restoreAllMocks());

  function setup(status: number): { server: FakeServer; saved: string[]; source: () => CaptureSource } {
    const server = new FakeServer();
    server.on('POST dicom/studies/1.2.3/captures', () => (status === 204 ? new Response(null, { status: 204 }) : json(status, { error: { code: 'unavailable', message: 'the Reading Room store is unavailable' } })));
    const ctx = { drawImage: vi.fn(), fillRect: vi.fn(), strokeText: vi.fn(), fillText: vi.fn() };
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(ctx as never);
    vi.spyOn(HTMLCanvasElement.prototype, 'toBlob').mockImplementation((cb: BlobCallback) => cb(new Blob(['png'], { type: 'image/png' })));
    const saved: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
    URL.createObjectURL = vi.fn(() => 'blob:x');
    URL.revokeObjectURL = vi.fn();
    const canvas = document.createElement('canvas');
    canvas.width = 8;
    canvas.height = 8;
    return { server, saved, source: () => ({ canvas, overlay: null, image }) };
  }

  it('saves the PNG once the server answered 204, with what it recorded', async () => {
    const { server, saved, source } = setup(204);
    const c = createCapture(new Api('/api/', server.fetch), source);
    expect(await c.run()).toBe(true);
    expect(saved).toEqual(['capture-series3-image67.png']);
    const sent = server.calls.find((r) => r.method === 'POST');
    expect(sent?.body).toEqual({ sopInstanceUid: '1.2.3.4.5', frame: 2, burnedIn: false });
    expect(c.message.getAttribute('data-rr-capture')).toBe('saved');
  });

  it('saves nothing and says why when the audit record is refused', async () => {
    const { server, saved, source } = setup(503);
    const c = createCapture(new Api('/api/', server.fetch), source);
    expect(await c.run(true)).toBe(false);
    expect(saved).toEqual([]);
    expect(c.message.getAttribute('data-rr-capture')).toBe('failed');
    expect(c.message.textContent).toMatch(/^Not saved: the capture could not be recorded in the audit trail/);
  });

  it('an empty viewport: nothing recorded, nothing saved', async () => {
    const { server, saved } = setup(204);
    const c = createCapture(new Api('/api/', server.fetch), () => ({ canvas: null, overlay: null, image: null }));
    expect(await c.run()).toBe(false);
    expect(saved).toEqual([]);
    expect(server.calls.length).toBe(0);
  });
});
