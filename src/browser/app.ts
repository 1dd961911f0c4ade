/**
 * The `voxkit serve` page: enroll a speaker from a file or the microphone, verify another
 * recording against the enrollment, show the cosine score, the threshold and the decision.
 * The markup is in index.html; this binds to its element ids.
 */
import { BrowserEmbedder, cosineScore, type BrowserAudio } from './embedder.js';

/** What `voxkit serve` puts in config.json. */
export interface PageConfig {
  modelUrl: string;
  wasmPaths?: string;
  /** Threshold given on the command line; absent = model metadata or DEFAULT_THRESHOLD. */
  threshold?: number;
  /** Model file name, shown on the page. */
  modelName?: string;
}

/** The uncalibrated default of `voxkit verify`, used when neither the server nor the model sets one. */
export const DEFAULT_THRESHOLD = 0.5;

type Slot = 'enroll' | 'verify';

function element<T extends HTMLElement>(root: ParentNode, id: string): T {
  const found = root.querySelector<T>(`#${id}`);
  if (!found) throw new Error(`page markup lacks #${id}`);
  return found;
}

/** The threshold to start from and where it came from. */
export function initialThreshold(config: PageConfig, metadata: Record<string, string>): { value: number; source: string } {
  if (config.threshold !== undefined && Number.isFinite(config.threshold)) return { value: config.threshold, source: 'set by the server (--threshold)' };
  const fromModel = Number(metadata.threshold);
  if (metadata.threshold !== undefined && Number.isFinite(fromModel)) return { value: fromModel, source: 'from the model file' };
  return { value: DEFAULT_THRESHOLD, source: 'default, not calibrated for this model' };
}

/** Starts the page: loads config.json and the model, then wires the controls. */
export async function startVoxkitApp(root: ParentNode = document, configUrl = 'config.json'): Promise<void> {
  const ui = {
    modelInfo: element(root, 'model-info'),
    files: { enroll: element<HTMLInputElement>(root, 'enroll-file'), verify: element<HTMLInputElement>(root, 'verify-file') },
    records: { enroll: element<HTMLButtonElement>(root, 'enroll-record'), verify: element<HTMLButtonElement>(root, 'verify-record') },
    statuses: { enroll: element(root, 'enroll-status'), verify: element(root, 'verify-status') },
    score: element<HTMLOutputElement>(root, 'score'),
    scoreBar: element(root, 'score-bar'),
    thresholdMark: element(root, 'threshold-mark'),
    thresholdValue: element<HTMLOutputElement>(root, 'threshold-value'),
    thresholdSource: element(root, 'threshold-source'),
    slider: element<HTMLInputElement>(root, 'threshold'),
    decision: element(root, 'decision'),
    error: element(root, 'error'),
  };
  const body = document.body;
  const showError = (err: unknown) => {
    ui.error.textContent = err instanceof Error ? err.message : String(err);
    ui.error.hidden = false;
  };

  let embedder: BrowserEmbedder;
  let config: PageConfig;
  try {
    const response = await fetch(configUrl);
    if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
    config = (await response.json()) as PageConfig;
    embedder = await BrowserEmbedder.load(new URL(config.modelUrl, location.href), {
      wasmPaths: config.wasmPaths === undefined ? undefined : new URL(config.wasmPaths, location.href).href,
    });
  } catch (err) {
    showError(err);
    body.dataset.state = 'failed';
    return;
  }
  const { info } = embedder;
  ui.modelInfo.textContent =
    `${config.modelName ? `${config.modelName}: ` : ''}${info.architecture}, ${info.embeddingDim}-d embeddings, ` +
    `${info.sampleRateHz / 1000} kHz, front end ${info.frontendLocation === 'separate' ? 'in TypeScript' : 'inside the ONNX graph'}, onnxruntime-web`;

  const embeddings: Partial<Record<Slot, Float32Array>> = {};
  let threshold = initialThreshold(config, info.metadata);
  ui.slider.value = String(threshold.value);

  const render = () => {
    ui.thresholdValue.textContent = threshold.value.toFixed(3);
    ui.thresholdSource.textContent = `(${threshold.source})`;
    ui.thresholdMark.style.left = `${((threshold.value + 1) / 2) * 100}%`;
    const { enroll, verify } = embeddings;
    if (!enroll || !verify) {
      ui.score.textContent = '—';
      delete ui.score.dataset.score;
      ui.decision.textContent = enroll ? 'now verify a recording' : 'enroll a speaker first';
      ui.decision.className = 'pending';
      delete ui.decision.dataset.same;
      ui.scoreBar.style.width = '0';
      return;
    }
    const score = cosineScore(enroll, verify);
    const same = score >= threshold.value;
    ui.score.textContent = score.toFixed(4);
    ui.score.dataset.score = String(score);
    ui.scoreBar.style.width = `${Math.max(0, Math.min(1, (score + 1) / 2)) * 100}%`;
    ui.scoreBar.className = same ? 'accept' : 'reject';
    ui.decision.textContent = same ? `same speaker (score ≥ ${threshold.value.toFixed(3)})` : `different speakers (score < ${threshold.value.toFixed(3)})`;
    ui.decision.className = same ? 'accept' : 'reject';
    ui.decision.dataset.same = String(same);
  };

  let pending = 0;
  const busy = (delta: number) => {
    pending += delta;
    body.dataset.busy = String(pending > 0);
  };

  const use = async (slot: Slot, label: string, read: () => Promise<ArrayBuffer>) => {
    busy(1);
    ui.error.hidden = true;
    ui.statuses[slot].textContent = `embedding ${label}…`;
    try {
      const { embedding, audio } = await embedder.embedAudio(await read(), label);
      embeddings[slot] = embedding;
      ui.statuses[slot].textContent = describe(slot, label, audio);
      ui.statuses[slot].dataset.done = 'true';
      render();
    } catch (err) {
      ui.statuses[slot].textContent = `${label}: failed`;
      showError(err);
    } finally {
      busy(-1);
    }
  };

  for (const slot of ['enroll', 'verify'] as const) {
    ui.files[slot].addEventListener('change', () => {
      const file = ui.files[slot].files?.[0];
      if (file) void use(slot, file.name, () => file.arrayBuffer());
    });
    wireMicrophone(ui.records[slot], (read) => use(slot, 'microphone recording', read), showError);
  }
  ui.slider.addEventListener('input', () => {
    threshold = { value: Number(ui.slider.value), source: 'set with the slider' };
    render();
  });
  render();
  body.dataset.state = 'ready';
}

function describe(slot: Slot, label: string, audio: BrowserAudio): string {
  const what = slot === 'enroll' ? 'enrolled' : 'verifying';
  return `${what}: ${label} (${audio.durationSec.toFixed(1)} s)`;
}

/**
 * Record/stop toggle: MediaRecorder captures the microphone; the compressed recording is decoded
 * with the browser's decoder at the model's rate, like a non-WAV file.
 */
function wireMicrophone(button: HTMLButtonElement, onRecording: (read: () => Promise<ArrayBuffer>) => Promise<void>, showError: (err: unknown) => void): void {
  const idleLabel = button.textContent ?? 'Record';
  let recorder: MediaRecorder | undefined;
  button.addEventListener('click', async () => {
    if (recorder) {
      recorder.stop();
      return;
    }
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      showError(new Error('this browser cannot record from a microphone here (it needs https or localhost)'));
      return;
    }
    let stream: MediaStream;
    try {
      // Raw signal: the browser's speech processing would change the voice the model hears.
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (err) {
      showError(new Error(`microphone not available: ${(err as Error).message ?? err}`));
      return;
    }
    const chunks: Blob[] = [];
    const active = new MediaRecorder(stream);
    recorder = active;
    const started = performance.now();
    const tick = setInterval(() => (button.textContent = `■ Stop (${((performance.now() - started) / 1000).toFixed(1)} s)`), 100);
    active.addEventListener('dataavailable', (event) => {
      if (event.data.size > 0) chunks.push(event.data);
    });
    active.addEventListener('stop', () => {
      clearInterval(tick);
      for (const track of stream.getTracks()) track.stop();
      recorder = undefined;
      button.textContent = idleLabel;
      button.classList.remove('recording');
      void onRecording(() => new Blob(chunks, { type: active.mimeType }).arrayBuffer());
    });
    active.start();
    button.textContent = '■ Stop';
    button.classList.add('recording');
  });
}
