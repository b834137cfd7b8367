import { beforeAll, describe, expect, it } from 'vitest';
import { data, init } from '../index.js';

beforeAll(async () => {
  await init();
});

const IRIS = `sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.3,3.3,6.0,2.5,virginica
4.9,3.0,1.4,0.2,setosa
`;

describe('parseCsv', () => {
  it('detects a header and takes the label column by name', () => {
    const csv = data.parseCsv(IRIS, { labelColumn: 'species' });
    expect(csv.rows).toBe(4);
    expect(csv.cols).toBe(4);
    expect(csv.columnNames).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(csv.labelName).toBe('species');
    expect(Array.from(csv.features.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect(csv.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(Array.from(csv.labels!)).toEqual([0, 1, 2, 0]);
  });

  it('detects no header when the first row is numeric, and takes the label by index (negative from the end)', () => {
    const text = '1,2,0\n3,4,1\r\n\n5,6,1\n';
    for (const labelColumn of [2, -1]) {
      const csv = data.parseCsv(text, { labelColumn });
      expect(csv.rows).toBe(3);
      expect(csv.columnNames).toEqual(['0', '1']);
      expect(Array.from(csv.features)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(csv.labels!)).toEqual([0, 1, 1]);
      expect(csv.classNames).toBeNull();
    }
    const middle = data.parseCsv(text, { labelColumn: 0 });
    expect(Array.from(middle.features)).toEqual([2, 0, 4, 1, 6, 1]);
    expect(Array.from(middle.labels!)).toEqual([1, 3, 5]);
    const none = data.parseCsv(text);
    expect(none.labels).toBeNull();
    expect(none.cols).toBe(3);
  });

  it('header: true / false override the guess', () => {
    expect(data.parseCsv('1,2\n3,4\n', { header: true }).columnNames).toEqual(['1', '2']);
    expect(data.parseCsv('1,2\n3,4\n', { header: true }).rows).toBe(1);
    expect(() => data.parseCsv('a,b\n3,4\n', { header: false })).toThrow('parseCsv: row 1, column 0: "a" is not a number');
  });

  it('guesses tab, semicolon and whitespace delimiters; honours quotes', () => {
    expect(Array.from(data.parseCsv('a\tb\n1\t2\n').features)).toEqual([1, 2]);
    expect(Array.from(data.parseCsv('a;b\n1;-2.5e1\n').features)).toEqual([1, -25]);
    expect(Array.from(data.parseCsv('59 2  32.1\n48 1 21.6\n').features)).toEqual([59, 2, 32.1, 48, 1, 21.6].map(Math.fround));
    const quoted = data.parseCsv('"width, cm","name"\n"1.5","a ""b"""\n2,c\n', { labelColumn: 'name' });
    expect(quoted.columnNames).toEqual(['width, cm']);
    expect(quoted.classNames).toEqual(['a "b"', 'c']);
    expect(Array.from(data.parseCsv('x|y\n1|2\n', { delimiter: '|' }).features)).toEqual([1, 2]);
  });

  it('names the row and column of a bad cell', () => {
    const bad = IRIS.replace('6.3,3.3,6.0,2.5', '6.3,3.3,6.0,abc');
    expect(() => data.parseCsv(bad, { labelColumn: 'species' })).toThrow('parseCsv: row 4, column "petal_width": "abc" is not a number');
    expect(() => data.parseCsv('a,b\n1,\n', {})).toThrow('parseCsv: row 2, column "b": the cell is empty');
    expect(() => data.parseCsv('1,2\n3,4,5\n')).toThrow('parseCsv: row 2 has 3 columns, expected 2');
    expect(() => data.parseCsv(IRIS, { labelColumn: 'kind' })).toThrow('parseCsv: labelColumn "kind" is not a column (columns: sepal_length');
    expect(() => data.parseCsv('1,2\n', { labelColumn: 'y' })).toThrow('has no header');
    expect(() => data.parseCsv('1,2\n', { labelColumn: 2 })).toThrow('parseCsv: labelColumn 2 is out of range for 2 columns');
    expect(() => data.parseCsv('\n\n')).toThrow('parseCsv: the text has no rows');
  });

  it('accepts NaN and inf as written', () => {
    const csv = data.parseCsv('NaN,inf,-Infinity\n');
    expect(Array.from(csv.features)).toEqual([NaN, Infinity, -Infinity]);
  });

  it('csvToTensors gives x float32 and y int32 for class names, float32 for numbers', () => {
    const { x, y } = data.csvToTensors(data.parseCsv(IRIS, { labelColumn: -1 }));
    expect(x.shape).toEqual([4, 4]);
    expect(x.dtype).toBe('float32');
    expect(y!.dtype).toBe('int32');
    expect(Array.from(y!.toInt32Array())).toEqual([0, 1, 2, 0]);
    const reg = data.csvToTensors(data.parseCsv('a,t\n1,2.5\n2,3.5\n', { labelColumn: 't' }));
    expect(reg.y!.dtype).toBe('float32');
    expect(reg.y!.toArray()).toEqual([2.5, 3.5]);
    const cls = data.csvToTensors(data.parseCsv('1,0\n2,1\n', { labelColumn: 1 }), { labelDtype: 'int32' });
    expect(cls.y!.dtype).toBe('int32');
    expect(() => data.csvToTensors(data.parseCsv('1,0.5\n', { labelColumn: 1 }), { labelDtype: 'int32' })).toThrow('csvToTensors: label 0.5 (data row 1) is not an integer');
    expect(data.csvToTensors(data.parseCsv('1,2\n')).y).toBeNull();
  });
});
