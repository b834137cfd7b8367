/**
 * @simdgrad/core/datasets — small classic data sets bundled as JavaScript (no files, no network), so
 * they work in Node, browsers and bundlers alike. A separate entry, so the core bundle stays small;
 * each data set is its own module, so a bundler keeps only the ones you call.
 * Sources and licences (UCI data, CC BY 4.0): data/README.md in the repository.
 *
 * @example
 * ```ts
 * import { init, data } from '@simdgrad/core';
 * import { iris } from '@simdgrad/core/datasets';
 * await init();
 * const { x, y, featureNames, classNames } = iris(); // x [150, 4] float32, y [150] int32
 * const { x: xs } = data.standardize(x);
 * ```
 */
import { SimdgradError } from './errors.js';
import { tensor } from './ops/creation.js';
import type { Tensor } from './tensor.js';
import * as breastCancerData from './datasets-data/breast-cancer.js';
import * as diabetesData from './datasets-data/diabetes.js';
import * as digitsData from './datasets-data/digits.js';
import * as irisData from './datasets-data/iris.js';
import * as wineData from './datasets-data/wine.js';

export interface Dataset {
  /** [N, F] float32 features. */
  x: Tensor;
  /** [N]: int32 class indices for classification, float32 targets for regression. */
  y: Tensor;
  /** The F feature names. */
  featureNames: string[];
  /** The class names, indexed by label (classification only). */
  classNames?: string[];
}

/** Parses the generator's "1.5,.2,3" encoding (see data/build-datasets.mjs). */
function decodeNumbers(text: string, expected: number, name: string): Float32Array {
  const cells = text.split(',');
  if (cells.length !== expected) throw new SimdgradError(`datasets: ${name} data is corrupt (${cells.length} values, expected ${expected})`);
  return Float32Array.from(cells, Number);
}

function decodeLabels(text: string): Int32Array {
  return Int32Array.from(text, (c) => c.charCodeAt(0) - 48);
}

function classification(mod: { rows: number; cols: number; classNames: string[]; features: string; labels: string }, name: string, featureNames: string[]): Dataset {
  const features = decodeNumbers(mod.features, mod.rows * mod.cols, name);
  return {
    x: tensor(features, { shape: [mod.rows, mod.cols] }),
    y: tensor(decodeLabels(mod.labels), { shape: [mod.rows], dtype: 'int32' }),
    featureNames,
    classNames: [...mod.classNames],
  };
}

/**
 * Fisher's Iris: 150 flowers, 4 measurements in cm, 3 species (50 each).
 *
 * @example
 * ```ts
 * const { x, y } = iris(); // x [150, 4], y [150] int32 in 0..2
 * ```
 */
export function iris(): Dataset {
  return classification(irisData, 'iris', ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)']);
}

/**
 * UCI Wine: 178 wines from three cultivars, 13 chemical measurements (unscaled: standardize them).
 *
 * @example
 * ```ts
 * const { x, y } = wine(); // x [178, 13], y [178] int32 in 0..2
 * ```
 */
export function wine(): Dataset {
  return classification(wineData, 'wine', [
    'alcohol', 'malic_acid', 'ash', 'alcalinity_of_ash', 'magnesium', 'total_phenols', 'flavanoids',
    'nonflavanoid_phenols', 'proanthocyanins', 'color_intensity', 'hue', 'od280/od315_of_diluted_wines', 'proline',
  ]);
}

/**
 * UCI Breast Cancer Wisconsin (Diagnostic): 569 tumours, 30 features of cell nuclei (mean, standard
 * error and worst of 10 measurements); class 0 malignant (212), 1 benign (357).
 *
 * @example
 * ```ts
 * const { x, y } = breastCancer(); // x [569, 30], y [569] int32 in 0..1
 * ```
 */
export function breastCancer(): Dataset {
  const measures = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity', 'concave points', 'symmetry', 'fractal dimension'];
  return classification(breastCancerData, 'breastCancer', [
    ...measures.map((m) => `mean ${m}`), ...measures.map((m) => `${m} error`), ...measures.map((m) => `worst ${m}`),
  ]);
}

/**
 * UCI Optical Recognition of Handwritten Digits (the 1,797-image part scikit-learn ships): 8×8
 * images, pixels 0..16 (divide by 16 for [0, 1]), labels 0..9. Features are row-major pixels.
 *
 * @example
 * ```ts
 * const { x, y } = digits(); // x [1797, 64], y [1797] int32 in 0..9
 * const images = x.reshape([-1, 1, 8, 8]);
 * ```
 */
export function digits(): Dataset {
  const { rows, cols, pixels: text } = digitsData;
  const pixels = new Float32Array(rows * cols);
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) pixels[k++] = c - 48; // '0'..'9'
    else if (c >= 97 && c <= 103) pixels[k++] = c - 87; // 'a'..'g' = 10..16
    else k += c - 102; // 'h'..'z' = a run of 2..20 zeros
  }
  if (k !== pixels.length) throw new SimdgradError(`datasets: digits data is corrupt (${k} pixels, expected ${pixels.length})`);
  const featureNames: string[] = [];
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) featureNames.push(`pixel_${r}_${c}`);
  return {
    x: tensor(pixels, { shape: [rows, cols] }),
    y: tensor(decodeLabels(digitsData.labels), { shape: [rows], dtype: 'int32' }),
    featureNames,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
  };
}

/**
 * Diabetes (Efron et al., "Least Angle Regression", 2004): 442 patients, 10 baseline variables and a
 * measure of disease progression one year later (25..346) as a float32 regression target.
 * NOTE: these are the raw values (age in years, sex 1/2, …), not scikit-learn's pre-scaled ones;
 * standardize x (and maybe y) before training.
 *
 * @example
 * ```ts
 * const { x, y } = diabetes(); // x [442, 10], y [442] float32
 * ```
 */
export function diabetes(): Dataset {
  const { rows, cols } = diabetesData;
  return {
    x: tensor(decodeNumbers(diabetesData.features, rows * cols, 'diabetes'), { shape: [rows, cols] }),
    y: tensor(decodeNumbers(diabetesData.targets, rows, 'diabetes'), { shape: [rows] }),
    featureNames: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'],
  };
}
