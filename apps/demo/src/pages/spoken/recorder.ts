// Records a fixed-length take from the microphone as mono Float32 samples at the AudioContext's own
// rate (usually 48 kHz; the engine resamples to 8 kHz). An AudioWorklet copies the input blocks to
// the page; no browser audio processing (echo cancellation, noise suppression, auto gain) is asked
// for, so the recogniser hears what the microphone hears, as in the FSDD recordings.

const WORKLET = `
class Tap extends AudioWorkletProcessor {
  process(inputs) {
    const ch = inputs[0];
    if (ch && ch.length > 0) {
      // mix the channels down to mono
      const out = new Float32Array(ch[0].length);
      for (const c of ch) for (let i = 0; i < out.length; i++) out[i] += c[i] / ch.length;
      this.port.postMessage(out, [out.buffer]);
    }
    return true;
  }
}
registerProcessor('simdgrad-tap', Tap);
`;

export interface Take {
  samples: Float32Array;
  sampleRate: number;
}

export class Recorder {
  private ctx: AudioContext | null = null;

  /** Whether this browser can record at all (a secure context with getUserMedia and AudioWorklet). */
  static supported(): boolean {
    return typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia && typeof AudioWorkletNode !== 'undefined';
  }

  /** The audio graph is set up before the microphone opens, so the take starts as soon as it does. */
  private async context(): Promise<AudioContext> {
    if (!this.ctx) {
      const ctx = new AudioContext();
      const url = URL.createObjectURL(new Blob([WORKLET], { type: 'text/javascript' }));
      try {
        await ctx.audioWorklet.addModule(url);
      } finally {
        URL.revokeObjectURL(url);
      }
      this.ctx = ctx;
    }
    if (this.ctx.state === 'suspended') await this.ctx.resume();
    return this.ctx;
  }

  /**
   * Records `seconds` of audio; `onLevel(peak, fraction)` reports progress about every 50 ms.
   * Rejects when the microphone is refused or missing.
   */
  async record(seconds: number, onLevel?: (peak: number, fraction: number) => void): Promise<Take> {
    const ctx = await this.context();
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const source = ctx.createMediaStreamSource(stream);
    const tap = new AudioWorkletNode(ctx, 'simdgrad-tap');
    // the graph only runs what reaches the destination: route the tap there, muted
    const mute = ctx.createGain();
    mute.gain.value = 0;
    tap.connect(mute).connect(ctx.destination);
    const want = Math.round(seconds * ctx.sampleRate);
    const samples = new Float32Array(want);
    let have = 0, peak = 0, lastReport = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error('the microphone sent no audio (is it muted or in use?)')), seconds * 1000 + 5000);
        tap.port.onmessage = (e: MessageEvent<Float32Array>) => {
          const block = e.data;
          const n = Math.min(block.length, want - have);
          samples.set(block.subarray(0, n), have);
          for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(block[i]!));
          have += n;
          const now = performance.now();
          if (onLevel && now - lastReport > 50) {
            lastReport = now;
            onLevel(peak, have / want);
          }
          if (have >= want) {
            clearTimeout(timeout);
            resolve();
          }
        };
        source.connect(tap);
      });
    } finally {
      tap.port.onmessage = null;
      source.disconnect();
      tap.disconnect();
      mute.disconnect();
      for (const track of stream.getTracks()) track.stop();
    }
    onLevel?.(peak, 1);
    return { samples, sampleRate: ctx.sampleRate };
  }
}
