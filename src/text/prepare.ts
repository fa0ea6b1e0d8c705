/**
 * The text preprocessing of sentence-transformers' Transformer module (2.2.2): `str(s).strip()` (Python's
 * Unicode whitespace) then `s.lower()` when sentence_bert_config.json says do_lower_case.
 */
import { pythonStrip } from './unicode.js';

export function prepareText(text: string, cfg: { strip: boolean; lowercase: boolean }): string {
  let s = cfg.strip ? pythonStrip(text) : text;
  // Python's str.lower() on the whole string: full case mapping with the final-sigma rule, as toLowerCase.
  if (cfg.lowercase) s = s.toLowerCase();
  return s;
}
