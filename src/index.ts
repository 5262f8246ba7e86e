/**
 * iclrnn: Input Convex Lipschitz RNNs for process modelling, certification and real-time MPC.
 * Public API for Node: everything of `browser.ts` plus the file I/O (model files, MAT/HDF5/CSV
 * readers, Keras import, data-set loaders), which needs Node's fs.
 * @packageDocumentation
 */
export * from './browser.ts';
export { saveModel, loadModel } from './io/model-file.ts';
export { writeFileAtomic } from './io/atomic.ts';
export * from './io/keras.ts';
export * from './io/csv.ts';
export * from './io/mat.ts';
export * from './io/datasets.ts';
