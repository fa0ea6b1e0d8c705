/** densekit tensors: a TypeScript surface over libtorch (native/densekit.cc). */
export type { DType } from './dtype.js';
export { resolveDevice, type Device } from './device.js';
export { Tensor } from './tensor.js';
export { withBackend, currentBackend, type TensorBackend } from './backend.js';
export { tensor, fromHost, zeros, ones, full, arange, empty, randn, rand, randint, manualSeed, cat, stack } from './create.js';
export type { TensorOptions, TensorData } from './create.js';
export { F } from './functional.js';
export type { Functional, Reduction } from './functional.js';
export { noGrad, isGradEnabled, autocast, activeAutocast } from './modes.js';
export { scope } from './scope.js';
export { cpuCapabilities, choosePrecision } from './cpu.js';
export type { CpuCapabilities, PrecisionChoice, RequestedPrecision } from './cpu.js';
export { liveTensorCount, setNumThreads, getNumThreads, cudaAvailable, cudaDeviceCount, libtorchVersion, int8Engine, mmapFile } from './system.js';
