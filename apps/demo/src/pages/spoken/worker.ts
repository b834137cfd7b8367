// The spoken-digits page's worker: fetches the trained weights once, then recognises microphone
// takes and uploaded WAV files (one at a time, in order).
import { serveWorker, errorText } from '../../shared/worker-host.js';
import type { SpokenIn, SpokenOut } from './messages.js';
import { SpokenDigitRecogniser } from './recognise.js';

// next to this bundle in dist/assets/ (build.mjs copies it from src/assets/)
const WEIGHTS = new URL('./spoken-digits.safetensors', import.meta.url);

let recogniser: Promise<{ r: SpokenDigitRecogniser; bytes: number }> | null = null;
let queue: Promise<void> = Promise.resolve();

async function loadModel(): Promise<{ r: SpokenDigitRecogniser; bytes: number }> {
  const res = await fetch(WEIGHTS);
  if (!res.ok) throw new Error(`could not fetch the model weights (${WEIGHTS.pathname}: HTTP ${res.status})`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { r: SpokenDigitRecogniser.fromSafetensors(bytes), bytes: bytes.length };
}

serveWorker<SpokenIn, SpokenOut>({
  jobTypes: [], // nothing long-running: every message is answered in turn
  start() {},
  message(msg, post) {
    recogniser ??= loadModel();
    queue = queue.then(async () => {
      try {
        const { r, bytes } = await recogniser!;
        if (msg.type === 'load') {
          post({ type: 'loaded', parameters: r.parameterCount, bytes, arch: r.metadata['arch'] ?? 'spoken-digits-cnn' });
        } else if (msg.type === 'samples') {
          const out = r.classify(msg.samples, msg.sampleRate);
          post({ type: 'result', id: msg.id, source: 'microphone', ...out }, [out.logMel.buffer, out.wave.buffer]);
        } else if (msg.type === 'wav') {
          const out = r.classifyWav(msg.bytes);
          post({ type: 'result', id: msg.id, source: msg.name, ...out }, [out.logMel.buffer, out.wave.buffer]);
        }
      } catch (e) {
        // the host's post also carries the shared { type: 'error' } message (protocol.ts)
        post({ type: 'error', message: errorText(e) } as never);
      }
    });
  },
});
