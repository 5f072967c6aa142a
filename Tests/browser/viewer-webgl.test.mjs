// viewer.test.mjs again with the 2D stack viewports on cornerstone's WebGL pipeline, the one a browser with a
// real GPU gets (on this machine's software WebGL the page chooses the CPU pipeline, viewer-stack-rendering.ts):
// both pipelines must show the same images, windows, zoom, orientation markers, resets and overlays.
// node --test runs each file in a process of its own, so the variable reaches only this run.
process.env.RR_STACK_RENDERING = 'gpu';
await import('./viewer.test.mjs');
