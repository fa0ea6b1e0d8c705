/**
 * trec_eval orders query and document ids with C's strcmp, i.e. by UTF-8 bytes. JavaScript's `<` compares
 * UTF-16 code units, which agrees except between astral characters (surrogates) and U+E000..U+FFFF; this
 * comparator fixes that case so tie-breaking is identical for every id.
 */
export function compareBytewise(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
