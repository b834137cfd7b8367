// The data namespace: datasets of tensors, the mini-batch loader, file parsers (CSV, IDX) and preprocessing.
// The bundled data sets live in the separate entry `@simdgrad/core/datasets`, so this one stays small.
export { TensorDataset, DataLoader, permutation, type DataLoaderOptions } from './dataset.js';
export { parseCsv, csvToTensors, type ParseCsvOptions, type CsvData } from './csv.js';
export { parseIdx, parseIdxAsync, idxToTensor, gunzip, isGzip, type IdxData, type IdxDType, type IdxArray } from './idx.js';
export { standardize, normalize, trainTestSplit, type Standardization, type TrainTestSplitOptions } from './transform.js';
