/**
 * trec_eval's `-Z` file: lines `qid measure_name mean std_dev` giving, per query and printed measure name
 * (e.g. P_10), the mean and standard deviation of reference runs; each value is printed as its z-score.
 */
import { InputError } from '../errors.js';
import { readLines } from '../util/lines.js';
import { parseCDouble } from '../util/c-numbers.js';
import { splitFields } from './fields.js';

export interface ZscoreStats {
  mean: number;
  stddev: number;
}

/** qid -> measure name -> reference statistics. */
export type Zscores = Map<string, Map<string, ZscoreStats>>;

export async function readZscores(path: string): Promise<Zscores> {
  const zscores: Zscores = new Map();
  let entries = 0;
  for await (const { text, lineNo } of readLines(path)) {
    const f = splitFields(text);
    if (!f) continue;
    if (f.length !== 4) throw new InputError(path, lineNo, `expected 4 columns "qid measure mean std_dev", got ${f.length}`);
    const [qid, measure, meanField, stddevField] = f as [string, string, string, string];
    const mean = parseCDouble(meanField);
    const stddev = parseCDouble(stddevField);
    if (mean === undefined || !Number.isFinite(mean)) throw new InputError(path, lineNo, `mean must be a number, got "${meanField}"`);
    if (stddev === undefined || !Number.isFinite(stddev) || stddev < 0) throw new InputError(path, lineNo, `std_dev must be a number >= 0, got "${stddevField}"`);
    let byMeasure = zscores.get(qid);
    if (!byMeasure) zscores.set(qid, (byMeasure = new Map()));
    if (byMeasure.has(measure)) throw new InputError(path, lineNo, `duplicate entry for query "${qid}", measure "${measure}"`);
    byMeasure.set(measure, { mean, stddev });
    entries++;
  }
  if (entries === 0) throw new InputError(path, undefined, 'has no entries (expected lines "qid measure mean std_dev")');
  return zscores;
}
