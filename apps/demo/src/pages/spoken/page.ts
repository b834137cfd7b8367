// The spoken-digits page: record from the microphone (or upload a WAV), recognise in the worker,
// show the log-mel spectrogram the model sees and its class probabilities.
import { byId, mountNav, onEngineReady, showError } from '../../shared/layout.js';
import { ProbabilityBars } from '../../shared/prob-bars.js';
import { sequentialColor } from '../../shared/scale.js';
import { WorkerClient } from '../../shared/worker-client.js';
import type { SpokenIn, SpokenOut } from './messages.js';
import { Recorder } from './recorder.js';

const SECONDS = 1.5;

mountNav('spoken.html');
const el = {
  record: byId<HTMLButtonElement>('record'),
  file: byId<HTMLInputElement>('file'),
  level: byId('level'),
  status: byId('status'),
  spectrogram: byId<HTMLCanvasElement>('spectrogram'),
  wave: byId<HTMLCanvasElement>('wave'),
  prediction: byId('prediction'),
  probs: byId('probs'),
  source: byId('source'),
};

const bars = new ProbabilityBars(el.probs, 10);

/** bands × frames values, row 0 = lowest band, drawn with low frequencies at the bottom. */
function drawSpectrogram(logMel: Float32Array, bands: number, frames: number): void {
  let lo = Infinity, hi = -Infinity;
  for (const v of logMel) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const span = hi - lo || 1;
  const image = new ImageData(frames, bands);
  for (let b = 0; b < bands; b++) {
    for (let f = 0; f < frames; f++) {
      const [r, g, bl] = sequentialColor((logMel[b * frames + f]! - lo) / span);
      image.data.set([r, g, bl, 255], 4 * ((bands - 1 - b) * frames + f));
    }
  }
  el.spectrogram.width = frames;
  el.spectrogram.height = bands;
  el.spectrogram.getContext('2d')!.putImageData(image, 0, 0);
  el.spectrogram.dataset['drawn'] = 'true';
}

function drawWave(wave: Float32Array): void {
  const c = el.wave, g = c.getContext('2d')!;
  const w = c.width, h = c.height, per = wave.length / w;
  g.clearRect(0, 0, w, h);
  g.fillStyle = '#0877bd';
  for (let x = 0; x < w; x++) {
    let lo = 0, hi = 0;
    for (let i = Math.floor(x * per); i < Math.floor((x + 1) * per); i++) {
      const v = wave[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const y0 = ((1 - hi) / 2) * h, y1 = ((1 - lo) / 2) * h;
    g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
  }
}

function showResult(m: Extract<SpokenOut, { type: 'result' }>): void {
  drawSpectrogram(m.logMel, m.bands, m.frames);
  drawWave(m.wave);
  bars.show(m.probs);
  el.prediction.textContent = String(m.digit);
  Object.assign(el.prediction.dataset, { class: String(m.digit), probability: String(m.probs[m.digit]), source: m.source === 'microphone' ? 'microphone' : 'file', id: String(m.id) });
  el.source.textContent = `${m.source}: ${m.duration.toFixed(2)} s at ${m.sampleRate} Hz, peak ${m.peak.toFixed(3)}`;
  const quiet = m.peak < 0.01 ? ' It was very quiet: is the right microphone selected and unmuted?' : '';
  el.status.textContent = `Heard ${m.digit} (p = ${m.probs[m.digit]!.toFixed(2)}).${quiet}`;
  el.status.classList.remove('error');
  busy(false);
}

let ready = false;
function busy(on: boolean): void {
  el.record.disabled = on || !ready || !Recorder.supported();
  el.file.disabled = on || !ready;
}

const worker = new WorkerClient<SpokenIn, SpokenOut>('spoken');
onEngineReady(worker.ready, 'the recognition worker', () => {
  el.status.textContent = 'Loading the model…';
  worker.send({ type: 'load' });
});
let nextId = 0;
worker
  .on('loaded', (m) => {
    ready = true;
    busy(false);
    el.status.dataset['ready'] = 'true';
    el.status.textContent = Recorder.supported()
      ? `Ready (${m.parameters.toLocaleString('en')} parameters, ${Math.round(m.bytes / 1024)} KB of weights). Press record and say a digit.`
      : 'Ready, but this browser cannot record here (it needs a secure context with getUserMedia): upload a WAV file.';
  })
  .on('result', showResult)
  .on('error', (m) => { showError(m.message); busy(false); });

const recorder = new Recorder();
el.record.addEventListener('click', async () => {
  busy(true);
  el.status.classList.remove('error');
  el.status.textContent = 'Recording… say a digit now.';
  try {
    const take = await recorder.record(SECONDS, (peak, fraction) => {
      el.level.textContent = `${(fraction * SECONDS).toFixed(1)} s, level ${'▮'.repeat(Math.min(10, Math.round(peak * 10)))}`;
    });
    el.status.textContent = 'Recognising…';
    worker.send({ type: 'samples', id: ++nextId, samples: take.samples, sampleRate: take.sampleRate }, [take.samples.buffer]);
  } catch (e) {
    const name = e instanceof DOMException ? e.name : '';
    const why = name === 'NotAllowedError' ? 'the microphone was not allowed'
      : name === 'NotFoundError' ? 'no microphone was found'
        : e instanceof Error ? e.message : String(e);
    showError(`Could not record: ${why}. Upload a WAV file instead.`);
    busy(false);
  }
});

el.file.addEventListener('change', async () => {
  const file = el.file.files?.[0];
  if (!file) return;
  busy(true);
  el.status.classList.remove('error');
  el.status.textContent = `Recognising ${file.name}…`;
  el.level.textContent = '';
  const bytes = await file.arrayBuffer();
  worker.send({ type: 'wav', id: ++nextId, bytes, name: file.name }, [bytes]);
  el.file.value = ''; // choosing the same file again is a new change
});
