/**
 * trec_eval's `-R qrels_prefs`: a standard qrels file (`qid iter docno rel`) read as preferences. The iter
 * column is the judgment group, every group has the single sub-group "0", and the grade is a rel_level
 * (a double, as trec_eval reads it), so a higher grade is preferred to a lower one within a group.
 */
import { InputError } from '../errors.js';
import { readLines } from '../util/lines.js';
import { addPref, parseRelLevel, type PrefsInfo } from './prefs.js';
import { splitFields } from './fields.js';

export async function readQrelsPrefs(path: string): Promise<PrefsInfo> {
  const prefs: PrefsInfo = new Map();
  for await (const { text, lineNo } of readLines(path)) {
    const f = splitFields(text);
    if (!f) continue;
    if (f.length !== 4) throw new InputError(path, lineNo, `expected 4 columns "qid jg docno rel_level" (a qrels file), got ${f.length}`);
    addPref(prefs, f[0]!, { jg: f[1]!, jsg: '0', docId: f[2]!, relLevel: parseRelLevel(f[3]!, path, lineNo) });
  }
  if (prefs.size === 0) throw new InputError(path, undefined, 'has no judgments (expected lines "qid jg docno rel_level")');
  return prefs;
}
