// The spoken-digit recogniser as the page's worker runs it (and the Node tests): the engine's own
// pipeline, the same as `examples/spoken-digits.mjs predict`: readWav → prepareSpokenDigit (8 kHz,
// trimmed, centred in 1.024 s, peak-normalised) → spokenDigitFeatures (40 × 64 standardised log-mels)
// → the small CNN with the weights trained once on FSDD's training takes → softmax.
import { audio, io, noGrad, scope, type nn } from '@simdgrad/core';

export interface Recognition {
  /** P(digit) for 0..9. */
  probs: Float32Array;
  /** The most probable digit. */
  digit: number;
  /** What the model sees: the standardised log-mel image, 40 bands × 64 frames, row 0 = lowest band. */
  logMel: Float32Array;
  bands: number;
  frames: number;
  /** The prepared 8 kHz waveform (8192 samples, peak-normalised). */
  wave: Float32Array;
  /** The input as given: its rate and length. */
  sampleRate: number;
  duration: number;
  /** Peak |sample| of the input before normalisation (0: nothing but silence came in). */
  peak: number;
}

export class SpokenDigitRecogniser {
  private constructor(readonly model: nn.Module, readonly metadata: Record<string, string>) {}

  /** Builds the model and loads a safetensors file saved by `examples/spoken-digits.mjs --save`. */
  static fromSafetensors(bytes: Uint8Array | ArrayBuffer): SpokenDigitRecogniser {
    const { tensors, metadata } = io.load(bytes);
    const model = audio.spokenDigitModel();
    try {
      model.loadStateDict(tensors);
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
    model.eval();
    return new SpokenDigitRecogniser(model, metadata);
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    return this.model.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Recognises mono float samples at any rate (a microphone take or a decoded file). */
  classify(samples: Float32Array, sampleRate: number): Recognition {
    let peak = 0;
    for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]!));
    const wave = audio.prepareSpokenDigit(samples, sampleRate);
    return scope(() => {
      const x = audio.spokenDigitFeatures([wave]); // [1, 1, 40, 64]
      const probs = noGrad(() => this.model.forward(x).softmax(1)).toFloat32Array();
      let digit = 0;
      for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[digit]!) digit = k;
      return {
        probs, digit, logMel: x.toFloat32Array(), bands: x.shape[2]!, frames: x.shape[3]!, wave,
        sampleRate, duration: samples.length / sampleRate, peak,
      };
    });
  }

  /** Recognises a WAV file's bytes (any PCM/float WAV the engine reads; channels are mixed). */
  classifyWav(bytes: Uint8Array | ArrayBuffer): Recognition {
    const wav = audio.readWav(bytes);
    return this.classify(wav.samples, wav.sampleRate);
  }

  dispose(): void {
    this.model.dispose();
  }
}
