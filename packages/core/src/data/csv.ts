// Numeric CSV: text → a row-major Float32Array of features and an optional label column.
import { SimdgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

export interface ParseCsvOptions {
  /**
   * Whether the first row holds column names. 'auto' (default): it does when any of its cells is not
   * a number.
   */
  header?: boolean | 'auto';
  /**
   * The column that holds the label/target: a 0-based index (negative counts from the end, -1 is
   * the last) or a header name. Default: none (every column is a feature).
   */
  labelColumn?: number | string;
  /**
   * The cell separator: ',' ';' '\t'…, or 'whitespace' for runs of spaces and tabs. Default: guessed
   * from the first row (',' then '\t' then ';', else whitespace).
   */
  delimiter?: string;
}

export interface CsvData {
  /** Feature cells, row-major: `features[r * cols + c]`. */
  features: Float32Array;
  /** The label column (class indices when it held names, see `classNames`), or null without labelColumn. */
  labels: Float32Array | null;
  /** Data rows (the header and blank lines are not counted). */
  rows: number;
  /** Feature columns (the label column is not counted). */
  cols: number;
  /** Names of the feature columns: the header's, or their 0-based column index as a string. */
  columnNames: string[];
  /** Name of the label column, or null. */
  labelName: string | null;
  /** When the label column holds names (like 'setosa'): the sorted distinct names; labels index them. */
  classNames: string[] | null;
}

const SPECIAL = /^[+-]?(nan|inf|infinity)$/i;

/** The number in a trimmed cell, or undefined when it is not one ('' is not a number). */
function toNumber(cell: string): number | undefined {
  if (cell === '') return undefined;
  const v = Number(cell);
  if (!Number.isNaN(v)) return v;
  if (SPECIAL.test(cell)) return /nan/i.test(cell) ? NaN : cell.startsWith('-') ? -Infinity : Infinity;
  return undefined;
}

/** Splits one line on a single-character delimiter, honouring "quoted, cells" with "" escapes. */
function splitQuoted(line: string, delim: string, lineNo: number): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (line.startsWith(delim, i)) {
      cells.push(cell);
      cell = '';
      i += delim.length - 1;
    } else {
      cell += ch;
    }
  }
  if (quoted) throw new SimdgradError(`parseCsv: row ${lineNo} has an unclosed quote (help: quoted cells cannot span lines)`);
  cells.push(cell);
  return cells;
}

function guessDelimiter(line: string): string {
  for (const d of [',', '\t', ';']) if (line.includes(d)) return d;
  return 'whitespace';
}

/**
 * Parses numeric CSV text. Every feature cell must be a number (NaN and inf are accepted as written);
 * the label column may also hold names, which become class indices (see `classNames`). Blank lines
 * are skipped; quoted cells ("a, b") work, but a quoted cell cannot span lines.
 * Errors name the row as an editor counts lines (from 1, the header included) and the column by its
 * header name, or by its 0-based index without a header.
 *
 * @example
 * ```ts
 * const csv = data.parseCsv('sepal_length,species\n5.1,setosa\n7.0,versicolor\n', { labelColumn: 'species' });
 * csv.features;   // Float32Array [5.1, 7.0]
 * csv.labels;     // Float32Array [0, 1]
 * csv.classNames; // ['setosa', 'versicolor']
 * const { x, y } = data.csvToTensors(csv); // x [2, 1] float32, y [2] int32
 * ```
 */
export function parseCsv(text: string, options: ParseCsvOptions = {}): CsvData {
  if (typeof text !== 'string') throw new SimdgradError(`parseCsv: text must be a string (got ${text === null ? 'null' : typeof text})`);
  const { header = 'auto', labelColumn, delimiter } = options;
  if (header !== true && header !== false && header !== 'auto') throw new SimdgradError(`parseCsv: header must be true, false or 'auto' (got ${JSON.stringify(header)})`);
  if (delimiter !== undefined && (typeof delimiter !== 'string' || delimiter === '' || delimiter === '"')) {
    throw new SimdgradError(`parseCsv: delimiter must be a non-empty string other than '"' (got ${JSON.stringify(delimiter)})`);
  }

  // split into lines, remembering each one's number for error messages
  const lines: { no: number; text: string }[] = [];
  const raw = text.split(/\r\n|\n|\r/);
  for (let i = 0; i < raw.length; i++) {
    const t = i === 0 ? raw[i]!.replace(/^\uFEFF/, '') : raw[i]!;
    if (t.trim() !== '') lines.push({ no: i + 1, text: t });
  }
  if (lines.length === 0) throw new SimdgradError('parseCsv: the text has no rows');
  const delim = delimiter ?? guessDelimiter(lines[0]!.text);
  const split = (line: { no: number; text: string }): string[] => {
    const cells = delim === 'whitespace' ? line.text.trim().split(/\s+/)
      : line.text.includes('"') ? splitQuoted(line.text, delim, line.no) : line.text.split(delim);
    return cells.map((c) => c.trim());
  };

  const first = split(lines[0]!);
  const hasHeader = header === 'auto' ? first.some((c) => c !== '' && toNumber(c) === undefined) : header;
  const ncols = first.length;
  const names = hasHeader ? first : first.map((_, i) => String(i));
  const body = hasHeader ? lines.slice(1) : lines;

  let label = -1;
  if (labelColumn !== undefined) {
    if (typeof labelColumn === 'number') {
      if (!Number.isInteger(labelColumn) || labelColumn < -ncols || labelColumn >= ncols) {
        throw new SimdgradError(`parseCsv: labelColumn ${labelColumn} is out of range for ${ncols} columns`);
      }
      label = labelColumn < 0 ? labelColumn + ncols : labelColumn;
    } else if (typeof labelColumn === 'string') {
      if (!hasHeader) throw new SimdgradError(`parseCsv: labelColumn "${labelColumn}" is a name but the text has no header (help: pass the column index, or header: true)`);
      label = names.indexOf(labelColumn);
      if (label < 0) throw new SimdgradError(`parseCsv: labelColumn "${labelColumn}" is not a column (columns: ${names.join(', ')})`);
    } else {
      throw new SimdgradError(`parseCsv: labelColumn must be a column index or name (got ${typeof labelColumn})`);
    }
  }

  const rows = body.length;
  const cols = label >= 0 ? ncols - 1 : ncols;
  const features = new Float32Array(rows * cols);
  const labelCells: string[] = [];
  const colName = (c: number) => (hasHeader ? `"${names[c]}"` : String(c));
  for (let r = 0; r < rows; r++) {
    const line = body[r]!;
    const cells = split(line);
    if (cells.length !== ncols) {
      throw new SimdgradError(`parseCsv: row ${line.no} has ${cells.length} columns, expected ${ncols}${hasHeader ? ' (as in the header)' : ' (as in the first row)'}`);
    }
    let k = r * cols;
    for (let c = 0; c < ncols; c++) {
      const cell = cells[c]!;
      if (c === label) {
        labelCells.push(cell);
        continue;
      }
      const v = toNumber(cell);
      if (v === undefined) {
        throw new SimdgradError(`parseCsv: row ${line.no}, column ${colName(c)}: ${cell === '' ? 'the cell is empty' : `${JSON.stringify(cell)} is not a number`}`);
      }
      features[k++] = v;
    }
  }

  let labels: Float32Array | null = null;
  let classNames: string[] | null = null;
  if (label >= 0) {
    const values = labelCells.map(toNumber);
    const emptyAt = labelCells.indexOf('');
    if (emptyAt >= 0) throw new SimdgradError(`parseCsv: row ${body[emptyAt]!.no}, column ${colName(label)}: the label cell is empty`);
    if (values.every((v) => v !== undefined)) {
      labels = Float32Array.from(values as number[]);
    } else {
      classNames = [...new Set(labelCells)].sort();
      const index = new Map(classNames.map((name, i) => [name, i]));
      labels = Float32Array.from(labelCells, (cell) => index.get(cell)!);
    }
  }
  return {
    features, labels, rows, cols,
    columnNames: names.filter((_, c) => c !== label),
    labelName: label >= 0 ? names[label]! : null,
    classNames,
  };
}

/**
 * The parsed CSV as tensors: `x` [rows, cols] float32 and `y` [rows] (null without a label column).
 * `y` is int32 class indices when the labels were names, float32 otherwise, unless `labelDtype` says.
 *
 * @example
 * ```ts
 * const { x, y } = data.csvToTensors(data.parseCsv(text, { labelColumn: -1 }), { labelDtype: 'int32' });
 * ```
 */
export function csvToTensors(csv: CsvData, options: { labelDtype?: 'float32' | 'int32' } = {}): { x: Tensor; y: Tensor | null } {
  const labelDtype = options.labelDtype ?? (csv.classNames !== null ? 'int32' : 'float32');
  if (labelDtype !== 'float32' && labelDtype !== 'int32') throw new SimdgradError(`csvToTensors: labelDtype must be 'float32' or 'int32' (got ${JSON.stringify(labelDtype)})`);
  let labels: Float32Array | Int32Array | null = csv.labels;
  if (labels !== null && labelDtype === 'int32') {
    const bad = labels.findIndex((v) => !Number.isInteger(v));
    if (bad >= 0) throw new SimdgradError(`csvToTensors: label ${labels[bad]} (data row ${bad + 1}) is not an integer, so it cannot be an int32 class index (help: labelDtype: 'float32' for regression)`);
    labels = Int32Array.from(labels);
  }
  const x = tensor(csv.features, { shape: [csv.rows, csv.cols] });
  const y = labels === null ? null : tensor(labels, { shape: [csv.rows], dtype: labelDtype });
  return { x, y };
}
