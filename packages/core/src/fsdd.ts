// The Free Spoken Digit Dataset loader (Node: reads the WAV files). FSDD: Zohar Jackson et al.,
// https://github.com/Jakobovski/free-spoken-digit-dataset, CC BY-SA 4.0. The repository ships the
// balanced subset of takes 0–39 (6 speakers × 10 digits × 40 takes) in data/fsdd with its attribution.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav } from './audio/wav.js';
import { SimdgradError } from './errors.js';

export interface FsddRecording {
  /** The spoken digit 0…9 (the label). */
  digit: number;
  speaker: string;
  /** The take index; takes 0–4 are the official test set. */
  take: number;
  /** File name, e.g. `7_jackson_32.wav`. */
  file: string;
  /** Mono samples in [-1, 1). */
  samples: Float32Array;
  sampleRate: number;
}

export interface FsddOptions {
  /** The folder of `{digit}_{speaker}_{take}.wav` files (default: the first of {@link fsddDirs} that exists). */
  dir?: string;
  /** 'train' (takes ≥ 5), 'test' (takes 0–4, the dataset's official split) or 'all' (default 'train'). */
  split?: 'train' | 'test' | 'all';
}

/** The places searched, in order, when no `dir` is given: $SIMDGRAD_FSDD, then the repository's data/fsdd. */
export function fsddDirs(): string[] {
  const dirs: string[] = [];
  const env = typeof process !== 'undefined' ? process.env.SIMDGRAD_FSDD : undefined;
  if (env) dirs.push(env);
  dirs.push(fileURLToPath(new URL('../../../data/fsdd', import.meta.url)));
  return dirs;
}

const NAME = /^(\d)_([A-Za-z]+)_(\d+)\.wav$/;

/** Parses an FSDD file name `{digit}_{speaker}_{take}.wav`, or null. */
export function parseFsddName(file: string): { digit: number; speaker: string; take: number } | null {
  const m = NAME.exec(file);
  return m ? { digit: Number(m[1]), speaker: m[2]!, take: Number(m[3]) } : null;
}

/**
 * Loads FSDD recordings of a split, sorted by file name (so the order is the same everywhere).
 *
 * @example
 * ```ts
 * const train = await fsdd({ split: 'train' }); // 2,100 recordings with the shipped subset
 * const test = await fsdd({ split: 'test' });   // 300: takes 0–4 of every speaker and digit
 * ```
 */
export async function fsdd(options: FsddOptions = {}): Promise<{ recordings: FsddRecording[]; dir: string }> {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test' && split !== 'all') throw new SimdgradError(`fsdd: split must be 'train', 'test' or 'all' (got ${JSON.stringify(split)})`);
  const dirs = options.dir !== undefined ? [options.dir] : fsddDirs();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    const files = names.filter((f) => NAME.test(f)).sort();
    if (files.length === 0) continue;
    const recordings: FsddRecording[] = [];
    for (const file of files) {
      const meta = parseFsddName(file)!;
      if (split === 'test' ? meta.take > 4 : split === 'train' ? meta.take <= 4 : false) continue;
      let wav;
      try {
        wav = readWav(await readFile(join(dir, file)));
      } catch (e) {
        throw new SimdgradError(`fsdd: ${join(dir, file)}: ${(e as Error).message}`);
      }
      recordings.push({ ...meta, file, samples: wav.samples, sampleRate: wav.sampleRate });
    }
    return { recordings, dir };
  }
  throw new SimdgradError(`fsdd: no {digit}_{speaker}_{take}.wav files in ${dirs.join(', ')} ` +
    '(help: pass { dir } or set SIMDGRAD_FSDD to a folder of FSDD recordings, e.g. the repository\'s data/fsdd)');
}
