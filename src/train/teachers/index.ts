export type { InBatchTeacher } from './teacher.js';
export { ColbertTeacher, type ColbertOptions } from './colbert.js';
export { DenseTeacher } from './dense.js';
