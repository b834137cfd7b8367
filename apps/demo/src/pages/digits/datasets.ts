// The digits page's data sets, without the engine (the page imports this; the worker trains).

/** Which data set the page trains on. */
export type DigitsDataset = 'uci' | 'fashion';

/** What each data set looks like: side of the square image, the raw pixel maximum, class names. */
export const DATASET_INFO: Record<DigitsDataset, { side: number; maxPixel: number; classes: string[] }> = {
  uci: { side: 8, maxPixel: 16, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
  fashion: {
    side: 28, maxPixel: 255,
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

/** The Fashion-MNIST files the page fetches (relative to the site's data/fashion-mnist/). */
export const FASHION_FILES = { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' };
export const FASHION_TRAIN = 8000;
export const FASHION_TEST = 2000;

