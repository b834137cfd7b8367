import { describe, expect, it } from 'vitest';
import { collapseDims, contiguousStrides } from './strides.js';

describe('collapseDims', () => {
  it('merges contiguous dims into one', () => {
    expect(collapseDims([2, 3, 4], [[12, 4, 1], [12, 4, 1]])).toEqual({ shape: [24], strides: [[1], [1]] });
  });
  it('keeps a broadcast dim apart and drops size-1 dims', () => {
    expect(collapseDims([2, 1, 3, 4], [[12, 12, 4, 1], [0, 0, 4, 1]])).toEqual({ shape: [2, 12], strides: [[12, 1], [0, 1]] });
  });
  it('merges adjacent broadcast dims', () => {
    expect(collapseDims([2, 3, 4], [[0, 0, 1], [12, 4, 1]])).toEqual({ shape: [6, 4], strides: [[0, 1], [4, 1]] });
  });
  it('keeps transposed strides', () => {
    expect(collapseDims([3, 2], [[1, 3]])).toEqual({ shape: [3, 2], strides: [[1, 3]] });
  });
  it('gives one dim for scalars', () => {
    expect(collapseDims([], [[], []])).toEqual({ shape: [1], strides: [[1], [1]] });
    expect(collapseDims([1, 1], [[1, 1]])).toEqual({ shape: [1], strides: [[1]] });
  });
  it('computes contiguous strides', () => {
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([])).toEqual([]);
  });
});
