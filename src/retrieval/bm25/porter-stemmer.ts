/**
 * Lucene's PorterStemmer (org.apache.lucene.analysis.en), which Anserini's analyzer applies: Martin Porter's
 * original 1980 algorithm as in his reference C version, including its two departures (-bli -> -ble and
 * -logi -> -log) and its "eed" rule: a word ending in "eed" whose stem has measure 0 is left alone instead
 * of falling through to the "-ed" rule.
 *
 * Hand-written because the npm `stemmer` package (used before) implements a variant that sends such words
 * down the "-ed" rule, e.g. "aeed" -> "ae" where Lucene keeps "aeed"; no maintained package reproduces
 * Lucene's stemmer exactly. The code follows Lucene's step by step over UTF-16 code units (as Java's char[]),
 * so every character other than a, e, i, o, u (and y after a consonant) counts as a consonant, as there.
 */
export function porterStem(word: string): string {
  if (word.length <= 2) return word;
  return new PorterWord(word).stem();
}

class PorterWord {
  private readonly b: string[];
  /** Index of the last character of the current word. */
  private k: number;
  /** End of the stem before a matched suffix (set by ends()). */
  private j = 0;

  constructor(word: string) {
    this.b = word.split('');
    this.k = word.length - 1;
  }

  stem(): string {
    this.step1();
    this.step2();
    this.step3();
    this.step4();
    this.step5();
    this.step6();
    return this.b.slice(0, this.k + 1).join('');
  }

  private cons(i: number): boolean {
    switch (this.b[i]) {
      case 'a': case 'e': case 'i': case 'o': case 'u': return false;
      case 'y': return i === 0 ? true : !this.cons(i - 1);
      default: return true;
    }
  }

  /** The number of consonant-vowel sequences (Porter's m) in b[0..j]. */
  private m(): number {
    let n = 0;
    let i = 0;
    const j = this.j;
    while (true) {
      if (i > j) return n;
      if (!this.cons(i)) break;
      i++;
    }
    i++;
    while (true) {
      while (true) {
        if (i > j) return n;
        if (this.cons(i)) break;
        i++;
      }
      i++;
      n++;
      while (true) {
        if (i > j) return n;
        if (!this.cons(i)) break;
        i++;
      }
      i++;
    }
  }

  private vowelInStem(): boolean {
    for (let i = 0; i <= this.j; i++) if (!this.cons(i)) return true;
    return false;
  }

  private doublec(j: number): boolean {
    if (j < 1 || this.b[j] !== this.b[j - 1]) return false;
    return this.cons(j);
  }

  private cvc(i: number): boolean {
    if (i < 2 || !this.cons(i) || this.cons(i - 1) || !this.cons(i - 2)) return false;
    const ch = this.b[i];
    return !(ch === 'w' || ch === 'x' || ch === 'y');
  }

  private ends(s: string): boolean {
    const o = this.k - s.length + 1;
    if (o < 0) return false;
    for (let i = 0; i < s.length; i++) if (this.b[o + i] !== s[i]) return false;
    this.j = this.k - s.length;
    return true;
  }

  private setto(s: string): void {
    const o = this.j + 1;
    for (let i = 0; i < s.length; i++) this.b[o + i] = s[i]!;
    this.k = this.j + s.length;
  }

  private r(s: string): void {
    if (this.m() > 0) this.setto(s);
  }

  private step1(): void {
    if (this.b[this.k] === 's') {
      if (this.ends('sses')) this.k -= 2;
      else if (this.ends('ies')) this.setto('i');
      else if (this.b[this.k - 1] !== 's') this.k--;
    }
    if (this.ends('eed')) {
      if (this.m() > 0) this.k--;
    } else if ((this.ends('ed') || this.ends('ing')) && this.vowelInStem()) {
      this.k = this.j;
      if (this.ends('at')) this.setto('ate');
      else if (this.ends('bl')) this.setto('ble');
      else if (this.ends('iz')) this.setto('ize');
      else if (this.doublec(this.k)) {
        const ch = this.b[this.k--];
        if (ch === 'l' || ch === 's' || ch === 'z') this.k++;
      } else if (this.m() === 1 && this.cvc(this.k)) this.setto('e');
    }
  }

  private step2(): void {
    if (this.ends('y') && this.vowelInStem()) this.b[this.k] = 'i';
  }

  /** Double suffixes to single ones, keyed by the penultimate letter as in Lucene. */
  private step3(): void {
    if (this.k === 0) return;
    const rules = STEP3[this.b[this.k - 1]!];
    if (rules) this.firstRule(rules);
  }

  private step4(): void {
    const rules = STEP4[this.b[this.k]!];
    if (rules) this.firstRule(rules);
  }

  /** Applies the first rule whose suffix matches (r() may still decline it), as Lucene's switch/break does. */
  private firstRule(rules: readonly (readonly [string, string])[]): void {
    for (const [suffix, replacement] of rules) {
      if (this.ends(suffix)) {
        this.r(replacement);
        return;
      }
    }
  }

  private step5(): void {
    if (this.k === 0) return;
    const suffixes = STEP5[this.b[this.k - 1]!];
    if (!suffixes) return;
    let matched = false;
    for (const s of suffixes) {
      if (!this.ends(s)) continue;
      if (s === 'ion' && !(this.j >= 0 && (this.b[this.j] === 's' || this.b[this.j] === 't'))) continue;
      matched = true;
      break;
    }
    if (matched && this.m() > 1) this.k = this.j;
  }

  private step6(): void {
    this.j = this.k;
    if (this.b[this.k] === 'e') {
      const a = this.m();
      if (a > 1 || (a === 1 && !this.cvc(this.k - 1))) this.k--;
    }
    if (this.b[this.k] === 'l' && this.doublec(this.k) && this.m() > 1) this.k--;
  }
}

const STEP3: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  a: [['ational', 'ate'], ['tional', 'tion']],
  c: [['enci', 'ence'], ['anci', 'ance']],
  e: [['izer', 'ize']],
  l: [['bli', 'ble'], ['alli', 'al'], ['entli', 'ent'], ['eli', 'e'], ['ousli', 'ous']],
  o: [['ization', 'ize'], ['ation', 'ate'], ['ator', 'ate']],
  s: [['alism', 'al'], ['iveness', 'ive'], ['fulness', 'ful'], ['ousness', 'ous']],
  t: [['aliti', 'al'], ['iviti', 'ive'], ['biliti', 'ble']],
  g: [['logi', 'log']],
};

const STEP4: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  e: [['icate', 'ic'], ['ative', ''], ['alize', 'al']],
  i: [['iciti', 'ic']],
  l: [['ical', 'ic'], ['ful', '']],
  s: [['ness', '']],
};

/** Step 5's suffixes by penultimate letter; "ion" only after s or t. */
const STEP5: Readonly<Record<string, readonly string[]>> = {
  a: ['al'],
  c: ['ance', 'ence'],
  e: ['er'],
  i: ['ic'],
  l: ['able', 'ible'],
  n: ['ant', 'ement', 'ment', 'ent'],
  o: ['ion', 'ou'],
  s: ['ism'],
  t: ['ate', 'iti'],
  u: ['ous'],
  v: ['ive'],
  z: ['ize'],
};
