export { sphericalKMeans, assignNearest, type KMeansOptions, type KMeansResult } from './kmeans.js';
export { readClusterFile, writeClusterFile } from './cluster-file.js';
