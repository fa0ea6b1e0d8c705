/**
 * trec_eval's `-R prefs` judgments: lines `qid jg jsg docno rel_level`. Within a judgment sub-group (jsg) of a
 * judgment group (jg), a document with a higher rel_level is preferred to one with a lower; rel_level 0 means
 * non-relevant. Read as trec_eval reads them (rel_level is a double); malformed lines are one-line errors.
 */
import { InputError } from '../errors.js';
import { readLines } from '../util/lines.js';
import { parseCDouble } from '../util/c-numbers.js';
import { splitFields } from './fields.js';

export interface PrefJudgment {
  jg: string;
  jsg: string;
  docId: string;
  relLevel: number;
}

/** qid -> that query's preference judgments, in file order. */
export type PrefsInfo = Map<string, PrefJudgment[]>;

export async function readPrefs(path: string): Promise<PrefsInfo> {
  const prefs: PrefsInfo = new Map();
  for await (const { text, lineNo } of readLines(path)) {
    const f = splitFields(text);
    if (!f) continue;
    if (f.length !== 5) throw new InputError(path, lineNo, `expected 5 columns "qid jg jsg docno rel_level", got ${f.length}`);
    addPref(prefs, f[0]!, { jg: f[1]!, jsg: f[2]!, docId: f[3]!, relLevel: parseRelLevel(f[4]!, path, lineNo) });
  }
  if (prefs.size === 0) throw new InputError(path, undefined, 'has no preference judgments (expected lines "qid jg jsg docno rel_level")');
  return prefs;
}

export function addPref(prefs: PrefsInfo, qid: string, judgment: PrefJudgment): void {
  let list = prefs.get(qid);
  if (!list) prefs.set(qid, (list = []));
  list.push(judgment);
}

export function parseRelLevel(field: string, path: string, lineNo: number): number {
  const v = parseCDouble(field);
  if (v === undefined || !Number.isFinite(v)) throw new InputError(path, lineNo, `rel_level must be a number, got "${field}"`);
  return v;
}
