// The text page: a prompt and sampling settings in, characters streaming out of the worker as the
// character-level GPT generates them, with the live rate and the model's facts. The page bundle holds
// no engine code (only the worker loads it).
import { byId, mountNav, onEngineReady, showError } from '../../shared/layout.js';
import { WorkerClient } from '../../shared/worker-client.js';
import type { ModelFacts } from './char-model.js';
import type { TextIn, TextOut } from './messages.js';
import { formatBytes, formatRate, promptProblem, settingsProblems, type GenerationSettings } from './settings.js';

mountNav('text.html');
const el = {
  prompt: byId<HTMLTextAreaElement>('prompt'),
  length: byId<HTMLInputElement>('length'),
  temperature: byId<HTMLInputElement>('temperature'),
  topK: byId<HTMLInputElement>('top-k'),
  topP: byId<HTMLInputElement>('top-p'),
  seed: byId<HTMLInputElement>('seed'),
  generate: byId<HTMLButtonElement>('generate'),
  stop: byId<HTMLButtonElement>('stop'),
  status: byId('status'),
  output: byId('output'),
  echo: byId('echo'),
  generated: byId('generated'),
  stats: byId('stats'),
  facts: byId('facts'),
};

let facts: ModelFacts | null = null;
let running = false;
let seed = 0;
/** Characters generated so far in this run (as the worker counts them). */
let count = 0;
// the generated characters go into one text node (appendData), not a node per character
const generatedText = document.createTextNode('');
el.generated.append(generatedText);

function setRunning(on: boolean): void {
  running = on;
  el.generate.disabled = on || facts === null;
  el.stop.disabled = !on;
  el.output.classList.toggle('running', on);
}

function showFacts(f: ModelFacts): void {
  const rows: [string, string, string][] = [
    ['parameters', f.parameters.toLocaleString('en'), 'parameters'],
    ['layers', String(f.layers), 'layers'],
    ['heads', String(f.heads), 'heads'],
    ['width', String(f.width), 'width'],
    ['context', `${f.context} characters`, 'context'],
    ['vocabulary', `${f.vocabSize} characters`, 'vocabSize'],
    ['validation loss', f.valLoss === null ? 'not recorded in the file' : `${f.valLoss.toFixed(3)} nats/char (${(f.valLoss / Math.LN2).toFixed(2)} bits)`, 'valLoss'],
    ['file size', `${formatBytes(f.bytes)} (${f.bytes.toLocaleString('en')} bytes)`, 'bytes'],
  ];
  if (f.producer !== null) rows.push(['written by', f.producer, 'producer']);
  const children: HTMLElement[] = [];
  for (const [name, value, key] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    children.push(dt, dd);
    el.facts.dataset[key] = key === 'valLoss' ? String(f.valLoss ?? '') : String(f[key as keyof ModelFacts]);
  }
  el.facts.replaceChildren(...children);
  el.facts.dataset['vocabulary'] = JSON.stringify(f.vocabulary);
}

/** Shows a problem with the prompt or the settings (not an engine failure: no console error). */
function showProblem(message: string): void {
  el.status.textContent = message;
  el.status.classList.add('error');
  el.status.dataset['problem'] = 'true';
}

function clearStatus(text: string): void {
  el.status.textContent = text;
  el.status.classList.remove('error');
  delete el.status.dataset['problem'];
}

function readSettings(): GenerationSettings {
  const seedText = el.seed.value.trim();
  return {
    prompt: el.prompt.value,
    length: Number(el.length.value),
    temperature: Number(el.temperature.value),
    topK: Number(el.topK.value),
    topP: Number(el.topP.value),
    // a fresh seed each press unless one is given (it is shown, so a text can be made again)
    seed: seedText === '' ? Math.floor(Math.random() * 2 ** 32) : Number(seedText),
  };
}

function showStats(count: number, seconds: number, done: boolean): void {
  const rate = formatRate(count, seconds);
  el.stats.textContent = `${count.toLocaleString('en')} characters in ${seconds.toFixed(2)} s: ${rate} tokens/s` +
    ` · seed ${seed}${done ? '' : ' · generating…'}`;
  Object.assign(el.stats.dataset, { count: String(count), rate: String(seconds > 0 ? count / seconds : 0), seed: String(seed) });
}

const worker = new WorkerClient<TextIn, TextOut>('text');
onEngineReady(worker.ready, 'the text worker', () => {
  el.status.textContent = 'Loading the model…';
  worker.send({ type: 'load' });
});

worker
  .on('loaded', (m) => {
    facts = m.facts;
    showFacts(m.facts);
    setRunning(false);
    clearStatus(`Ready: ${m.facts.parameters.toLocaleString('en')} parameters, ${formatBytes(m.facts.bytes)} of weights. Press Generate.`);
    el.status.dataset['ready'] = 'true';
  })
  .on('rejected', (m) => {
    setRunning(false);
    showProblem(m.message);
  })
  .on('chars', (m) => {
    generatedText.appendData(m.text);
    count = m.count;
    showStats(m.count, m.seconds, false);
  })
  .on('done', (m) => {
    setRunning(false);
    showStats(m.count, m.seconds, true);
    el.stats.dataset['done'] = 'true';
    clearStatus(`Done: ${m.count} characters.`);
  })
  .on('stopped', () => {
    setRunning(false);
    el.stats.dataset['done'] = 'true';
    clearStatus(`Stopped after ${count} characters.`);
  })
  .on('error', (m) => {
    setRunning(false);
    showError(m.message);
  });

function generate(): void {
  if (facts === null || running) return;
  const s = readSettings();
  const problem = promptProblem(s.prompt, facts.vocabulary) ?? settingsProblems(s, facts.vocabSize)[0] ?? null;
  if (problem !== null) {
    showProblem(problem);
    return;
  }
  seed = s.seed;
  el.echo.textContent = s.prompt;
  generatedText.data = '';
  count = 0;
  el.stats.textContent = '';
  delete el.stats.dataset['done'];
  clearStatus('Generating…');
  setRunning(true);
  worker.send({ type: 'generate', ...s });
}

el.generate.addEventListener('click', generate);
el.stop.addEventListener('click', () => {
  if (running) worker.stop();
});
el.prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    generate();
  }
});
