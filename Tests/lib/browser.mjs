// Debian's chromium for the browser tests, driven by playwright-core (never a
// downloaded browser). The flags keep it off this machine's closed network
// (background networking, component updates, sync); `webgl: true` gives the
// viewer tests software WebGL2 through SwiftShader (../shared/NOTES.md,
// cornerstone3D: headless tests) with the page composited in software, as
// Chrome does on a machine without a usable GPU (`gpuCompositing: true`
// composites through SwiftShader as well, which no Chrome does by itself: it
// costs the GPU process about 70 ms of CPU a frame at 1440×900); otherwise the
// GPU is off. CHROMIUM_PATH overrides the executable.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function launchChromium({ webgl = false, gpuCompositing = false } = {}) {
  const graphics = webgl
    ? ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', ...(gpuCompositing ? [] : ['--disable-gpu-compositing'])]
    : ['--disable-gpu'];
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', ...graphics, '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page error as text a failure report can use: name, message and stack
 * (a rejection with a non-Error value has an empty stack; its message still says what it was). */
export function pageErrorText(e) {
  if (e == null || typeof e !== 'object') return `non-error value: ${String(e)}`;
  const head = `${e.name ?? 'Error'}: ${e.message ?? ''}`;
  return e.stack ? `${head}\n${e.stack}` : `${head} (no stack)`;
}

/** The grey spread of the first canvas matching `selector` in the page: the red channel's max − min over every
 * 7th pixel; 0 when there is no such canvas or it is empty. 0 (or a few levels) is a flat canvas: nothing drawn,
 * or a plane drawn flat grey. */
export function greySpread(page, selector) {
  return page.evaluate((selector) => {
    const canvas = document.querySelector(selector);
    if (!canvas || canvas.width === 0) return 0;
    const data = canvas.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, canvas.width, canvas.height).data;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < data.length; i += 4 * 7) {
      lo = Math.min(lo, data[i]);
      hi = Math.max(hi, data[i]);
    }
    return hi - lo;
  }, selector);
}
