// Linked scrolling and reference lines between the viewer's viewports (issue 10); the geometry is
// viewer-sync-model.ts.
//
// - Linked scrolling (on by default; `Y` or the "Link" button turns it off and on): when a viewport shows
//   another slice, every other viewport whose series shares its Frame of Reference and slice direction goes
//   to its slice nearest the same position along the normal. Only the viewport the user works in drives the
//   others (the last one wheeled, clicked or, for keys, the active one), so moved viewports never echo back.
//   Two viewports showing the same series stay independent (two looks at one stack, e.g. two levels).
// - A prior (another Frame of Reference: positions are not comparable) is linked on request: `Q` or "Link
//   prior" takes the offset between the slices shown at that moment (align, then link) for every pair of
//   viewports of different Frames of Reference with parallel slices; loading another series into one of them
//   ends that pair's link. Pressed again, it unlinks.
// - Reference lines (on by default; `J` or "Ref lines"): the active viewport's slice drawn as a line on every
//   other viewport of the same Frame of Reference whose plane is not parallel to it. Our own SVG overlay
//   rather than cornerstone's ReferenceLinesTool: that tool draws from one configured source viewport only and
//   needs reconfiguring at each change of the active viewport, it reads geometry from volume-less stack
//   viewports through the annotation layer (rendered only when tools render), and it exposes nothing to test
//   against; the overlay here is plain geometry (tested by Vitest) projected with the viewport's own
//   worldToCanvas, redrawn on every render and camera change, and carries data-rr-* hooks.
//
// Hooks for tests: the overlay `svg.viewer-reflines` in each viewport's cell with `line[data-rr-refline]`
// (the source viewport's index) and the line's canvas coordinates in x1/y1/x2/y2; buttons
// `[data-rr-tool="link"|"link-prior"|"reflines"]` with aria-pressed.

import { Enums, metaData, type RenderingEngine, type Types } from '@cornerstonejs/core';
import type { Series } from './api';
import { h } from './dom';
import { stackImages } from './viewer-model';
import { linkedIndex, linkOffset, normalOf, parallel, referenceLine, stackTolerance, type ImagePlane, type Vec3 } from './viewer-sync-model';
import type { Pane } from './viewer-viewport';

export interface SyncHost {
  engine(): RenderingEngine | null;
  panes(): readonly Pane[];
  active(): number;
  orthancRoot: string;
}

export interface Sync {
  /** The toolbar buttons: Link, Link prior, Ref lines. */
  readonly buttons: HTMLButtonElement[];
  /** Y, K, J; true when the key was handled. */
  key(k: KeyboardEvent): boolean;
  /** Redraws the reference lines (after a change of the active viewport or of the layout). */
  refresh(): void;
  destroy(): void;
}

const SVG = 'http://www.w3.org/2000/svg';

interface StackGeometry {
  positions: (number | null)[];
  normal: Vec3 | null;
  tolerance: number;
}

interface PlaneModule {
  frameOfReferenceUID?: string;
  imagePositionPatient?: number[];
  rowCosines?: number[];
  columnCosines?: number[];
  rows?: number;
  columns?: number;
  rowPixelSpacing?: number;
  columnPixelSpacing?: number;
}

function planeModule(imageId: string | undefined): PlaneModule | null {
  if (!imageId) return null;
  try {
    return (metaData.get('imagePlaneModule', imageId) as PlaneModule | undefined) ?? null;
  } catch {
    return null;
  }
}

const vec3 = (v: number[] | undefined): Vec3 | null =>
  v && v.length === 3 && v.every(Number.isFinite) ? [v[0]!, v[1]!, v[2]!] : null;

/** The plane of an image from cornerstone's metadata of its file; null without full geometry. */
function imagePlane(m: PlaneModule | null): ImagePlane | null {
  if (!m) return null;
  const origin = vec3(m.imagePositionPatient);
  const rowDir = vec3(m.rowCosines);
  const colDir = vec3(m.columnCosines);
  const { rows, columns, rowPixelSpacing, columnPixelSpacing } = m;
  if (!origin || !rowDir || !colDir || !rows || !columns || !rowPixelSpacing || !columnPixelSpacing) return null;
  return { origin, rowDir, colDir, rows, columns, rowSpacing: rowPixelSpacing, columnSpacing: columnPixelSpacing };
}

// The closures share the link state and the caches: one function on purpose.
export function createSync(grid: HTMLElement, host: SyncHost): Sync {
  let linkSame = true;
  let showLines = true;
  /** Offsets of linked pairs of different Frames of Reference, by "sourceSeriesUid|targetSeriesUid". */
  const priorLinks = new Map<string, number>();
  const geometry = new Map<string, StackGeometry>();
  /** The viewport the user works in (wheel, pointer); null: the active one. */
  let driver: number | null = null;
  let frame = 0;

  const tool = (label: string, title: string, key: string, pressed: boolean): HTMLButtonElement =>
    h('button', { class: 'viewer-tool', text: label, attrs: { type: 'button', title, 'data-rr-tool': key, 'aria-pressed': String(pressed) } });
  const linkButton = tool('Link', 'Linked scrolling of series sharing a frame of reference (Y)', 'link', true);
  const priorButton = tool('Link prior', 'Link the prior by position, keeping the offset shown now: align, then link (Q)', 'link-prior', false);
  const linesButton = tool('Ref lines', 'Reference lines of the active slice on the other viewports (J)', 'reflines', true);

  const viewport = (p: Pane): Types.IStackViewport | null =>
    (host.engine()?.getViewport(p.viewportId) as Types.IStackViewport | undefined) ?? null;

  const stackOf = (s: Series): StackGeometry => {
    let g = geometry.get(s.seriesInstanceUid);
    if (!g) {
      const images = stackImages(s, host.orthancRoot);
      const positions = images.map((i) => i.location);
      const first = s.instances.find((i) => i.imageOrientationPatient && i.imageOrientationPatient.length === 6);
      g = { positions, normal: normalOf(first?.imageOrientationPatient ?? null), tolerance: stackTolerance(positions) };
      geometry.set(s.seriesInstanceUid, g);
    }
    return g;
  };

  /** A pane's series, viewport, shown index, position and Frame of Reference; null when it shows nothing. */
  const stateOf = (p: Pane) => {
    const s = p.series();
    const vp = viewport(p);
    if (!s || !vp || !p.element.hasAttribute('data-rr-image-index')) return null;
    const index = vp.getCurrentImageIdIndex();
    const g = stackOf(s);
    const m = planeModule(vp.getCurrentImageId());
    return { pane: p, series: s, vp, index, g, position: g.positions[index] ?? null, frameOfReference: m?.frameOfReferenceUID ?? '', plane: imagePlane(m) };
  };

  const opposite = (a: Vec3, b: Vec3): boolean => a[0] * b[0] + a[1] * b[1] + a[2] * b[2] < 0;

  /** The others follow `source` (a pane that has just shown another slice). */
  const follow = (source: Pane): void => {
    const src = stateOf(source);
    if (!src || src.position === null || !src.g.normal) return;
    for (const p of host.panes()) {
      if (p === source) continue;
      const dst = stateOf(p);
      if (!dst || !dst.g.normal || !parallel(src.g.normal, dst.g.normal)) continue;
      // one series in two viewports: two independent looks at one stack (two levels, two windows)
      if (dst.series.seriesInstanceUid === src.series.seriesInstanceUid) continue;
      const flip = opposite(src.g.normal, dst.g.normal);
      const same = src.frameOfReference !== '' && src.frameOfReference === dst.frameOfReference;
      let offset: number | undefined;
      if (same && linkSame) offset = 0;
      else if (!same) offset = priorLinks.get(`${src.series.seriesInstanceUid}|${dst.series.seriesInstanceUid}`);
      if (offset === undefined) continue;
      const next = linkedIndex(src.position, dst.g.positions, { offset, flip, maxDistance: same ? dst.g.tolerance : Infinity });
      if (next !== null && next !== dst.index) dst.vp.setImageIdIndex(next).catch(() => undefined); // the viewport shows its own load errors when scrolled to
    }
  };

  /** Links every pair of viewports of different Frames of Reference (parallel slices) at the offset shown now. */
  const linkPriors = (): void => {
    priorLinks.clear();
    const states = host.panes().map(stateOf);
    for (const a of states) {
      for (const b of states) {
        if (!a || !b || a === b || a.position === null || b.position === null || !a.g.normal || !b.g.normal) continue;
        if (a.frameOfReference !== '' && a.frameOfReference === b.frameOfReference) continue;
        if (!parallel(a.g.normal, b.g.normal)) continue;
        priorLinks.set(`${a.series.seriesInstanceUid}|${b.series.seriesInstanceUid}`, linkOffset(a.position, b.position, opposite(a.g.normal, b.g.normal)));
      }
    }
  };

  const overlayOf = (p: Pane): SVGSVGElement => {
    let svg = p.cell.querySelector<SVGSVGElement>(':scope > svg.viewer-reflines');
    if (!svg) {
      svg = document.createElementNS(SVG, 'svg');
      svg.setAttribute('class', 'viewer-reflines');
      svg.setAttribute('aria-hidden', 'true');
      p.cell.insertBefore(svg, p.element.nextSibling);
    }
    return svg;
  };

  /** The active slice as a line on the other viewports of its Frame of Reference. */
  const drawLines = (): void => {
    const panes = host.panes();
    const src = showLines && panes[host.active()] ? stateOf(panes[host.active()]!) : null;
    for (const p of panes) {
      const svg = overlayOf(p);
      const lines: SVGLineElement[] = [];
      const dst = src && p !== src.pane ? stateOf(p) : null;
      if (src && dst && src.plane && dst.plane && src.frameOfReference !== '' && src.frameOfReference === dst.frameOfReference) {
        const seg = referenceLine(src.plane, dst.plane);
        if (seg) {
          const [a, b] = seg.map((w) => dst.vp.worldToCanvas([...w] as Types.Point3));
          const line = document.createElementNS(SVG, 'line');
          line.setAttribute('x1', a![0].toFixed(1));
          line.setAttribute('y1', a![1].toFixed(1));
          line.setAttribute('x2', b![0].toFixed(1));
          line.setAttribute('y2', b![1].toFixed(1));
          line.setAttribute('data-rr-refline', String(src.pane.index));
          lines.push(line);
        }
      }
      svg.replaceChildren(...lines);
    }
  };
  const schedule = (): void => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      drawLines();
    });
  };

  const paneAt = (target: EventTarget | null): Pane | null => {
    const cell = target instanceof Element ? target.closest('[data-rr-cell]') : null;
    return host.panes().find((p) => p.cell === cell) ?? null;
  };
  const onNewImage = (e: Event): void => {
    const p = paneAt(e.target);
    if (!p) return;
    const driving = driver ?? host.active();
    if (p.index === driving) follow(p);
  };
  const onPointer = (e: Event): void => {
    driver = paneAt(e.target)?.index ?? driver;
    schedule();
  };
  const onKeyDown = (): void => {
    driver = null; // keys act on the active viewport
    schedule();
  };

  grid.addEventListener(Enums.Events.STACK_NEW_IMAGE, onNewImage, { capture: true });
  grid.addEventListener(Enums.Events.IMAGE_RENDERED, schedule, { capture: true });
  grid.addEventListener(Enums.Events.CAMERA_MODIFIED, schedule, { capture: true });
  grid.addEventListener('wheel', onPointer, { capture: true, passive: true });
  grid.addEventListener('pointerdown', onPointer, { capture: true });
  grid.addEventListener('input', onPointer, { capture: true }); // the scrollbars
  document.addEventListener('keydown', onKeyDown, { capture: true });

  const setLinkSame = (on: boolean): void => {
    linkSame = on;
    linkButton.setAttribute('aria-pressed', String(on));
  };
  const setPriorLink = (on: boolean): void => {
    if (on) linkPriors();
    else priorLinks.clear();
    priorButton.setAttribute('aria-pressed', String(on));
  };
  const setLines = (on: boolean): void => {
    showLines = on;
    linesButton.setAttribute('aria-pressed', String(on));
    schedule();
  };
  linkButton.addEventListener('click', () => setLinkSame(!linkSame));
  priorButton.addEventListener('click', () => setPriorLink(priorButton.getAttribute('aria-pressed') !== 'true'));
  linesButton.addEventListener('click', () => setLines(!showLines));

  return {
    buttons: [linkButton, priorButton, linesButton],
    key(k: KeyboardEvent): boolean {
      switch (k.key.toLowerCase()) {
        case 'y':
          setLinkSame(!linkSame);
          return true;
        case 'q':
          setPriorLink(priorButton.getAttribute('aria-pressed') !== 'true');
          return true;
        case 'j':
          setLines(!showLines);
          return true;
        default:
          return false;
      }
    },
    refresh: schedule,
    destroy(): void {
      if (frame) cancelAnimationFrame(frame);
      grid.removeEventListener(Enums.Events.STACK_NEW_IMAGE, onNewImage, { capture: true });
      grid.removeEventListener(Enums.Events.IMAGE_RENDERED, schedule, { capture: true });
      grid.removeEventListener(Enums.Events.CAMERA_MODIFIED, schedule, { capture: true });
      grid.removeEventListener('wheel', onPointer, { capture: true });
      grid.removeEventListener('pointerdown', onPointer, { capture: true });
      grid.removeEventListener('input', onPointer, { capture: true });
      document.removeEventListener('keydown', onKeyDown, { capture: true });
    },
  };
}
