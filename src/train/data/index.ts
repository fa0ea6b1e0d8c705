export { readLines, type NumberedLine } from './lines.js';
export {
  readTeacherPairs, readTriples, streamTriples, readTrainQrels, readMinedNegatives, pairsFromQrelsAndNegatives,
  type ScoredPair, type PairsByQuery, type IdTriple,
} from './pairs.js';
export { resolvePairs, referencedPassages, type MissingIdPolicy, type MissingIdReport } from './resolve.js';
