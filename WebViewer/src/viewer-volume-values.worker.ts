// The volume's slice reader (issue 11), a dedicated worker: reads slices from the plugin's values route
// (viewer-volume-values.ts) a few at a time and hands each answer to the page as it arrives, its body
// transferred (not copied). It keeps its requests going while the page's main thread is busy (the first
// drawing of a volume under software WebGL holds it for most of a second: a reader on the main thread issues
// nothing meanwhile). It parses nothing: the page reads the answers (parseSliceValues).
//
// Messages in:  {type: 'fetch', id, base, headers, slices: [{k, path}], concurrency}
//                 base: the absolute URL of the API root; path: a slice's values route below it; slices read
//                 in the given order
//               {type: 'cancel', id}: the requests of job id stop (answers not yet sent are dropped)
// Messages out: {type: 'slice', id, k, status, headers: {x-rr-…: value}, body: ArrayBuffer}
//               {type: 'error', id, k, message}: the request failed (network, aborted by the browser)
//               {type: 'stopped', id}: the job stopped after an answer that is not a slice (not 2xx) or a failed
//                 request (sent after it): the page reads the rest another way, so the worker asks for no more

interface Job {
  type: 'fetch';
  id: number;
  base: string;
  headers: Record<string, string>;
  slices: { k: number; path: string }[];
  concurrency: number;
}

/** The answer headers the page reads. */
const NAMES = ['x-rr-values', 'x-rr-columns', 'x-rr-rows', 'x-rr-range', 'x-rr-window'];

const running = new Map<number, AbortController>();
const scope = self as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
};

async function run(job: Job): Promise<void> {
  const abort = new AbortController();
  running.set(job.id, abort);
  let next = 0;
  const stop = (): void => {
    if (abort.signal.aborted) return;
    abort.abort();
    scope.postMessage({ type: 'stopped', id: job.id });
  };
  const reader = async (): Promise<void> => {
    while (!abort.signal.aborted && next < job.slices.length) {
      const s = job.slices[next++]!;
      try {
        const response = await fetch(new URL(s.path, job.base), { headers: job.headers, credentials: 'same-origin', signal: abort.signal });
        const body = await response.arrayBuffer();
        if (abort.signal.aborted) return;
        const headers: Record<string, string> = {};
        for (const name of NAMES) {
          const v = response.headers.get(name);
          if (v !== null) headers[name] = v;
        }
        scope.postMessage({ type: 'slice', id: job.id, k: s.k, status: response.status, headers, body }, [body]);
        if (!response.ok) stop();
      } catch (err) {
        if (abort.signal.aborted) return;
        scope.postMessage({ type: 'error', id: job.id, k: s.k, message: err instanceof Error ? err.message : String(err) });
        stop();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(job.concurrency, job.slices.length)) }, reader));
  } finally {
    if (running.get(job.id) === abort) running.delete(job.id);
  }
}

scope.onmessage = (e: MessageEvent): void => {
  const m = e.data as Job | { type: 'cancel'; id: number };
  if (m.type === 'cancel') {
    running.get(m.id)?.abort();
    running.delete(m.id);
  } else if (m.type === 'fetch') void run(m);
};

export {};
