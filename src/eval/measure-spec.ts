/**
 * Turns trec_eval's `-m` arguments (`map`, `P.5,10`, `ndcg_cut.10,100`, `all_trec`, `ndcg.1=3,2=7`) into the
 * measures to compute with their parameters, in trec_eval's order, and the output names they print under.
 */
import { UsageError } from '../errors.js';
import { MEASURES, NICKNAMES, type MeasureDefinition, type MeasureParams, type ParamPair } from './measures.js';
import { atof, atol } from '../util/c-numbers.js';

export interface SelectedMeasure {
  definition: MeasureDefinition;
  params: MeasureParams;
  /** Printed names, one per value the measure produces (e.g. P_5, P_10). */
  columns: string[];
}

export function selectMeasures(specs: readonly string[]): SelectedMeasure[] {
  const marked = new Set<string>();
  const given: { name: string; params: string }[] = [];
  for (const spec of specs.length ? specs : ['official']) {
    const dot = spec.indexOf('.');
    const name = dot === -1 ? spec : spec.slice(0, dot);
    if (dot !== -1) {
      const params = spec.slice(dot + 1);
      if (params === '') throw new UsageError(`-m ${spec}: empty parameter list after "."`);
      given.push({ name, params });
    }
    const nickname = NICKNAMES[name];
    if (nickname) for (const n of nickname) marked.add(n);
    else if (MEASURES.some((m) => m.name === name)) marked.add(name);
    else throw new UsageError(`-m ${spec}: unknown measure "${name}" (densekit eval --help lists every measure and nickname)`);
  }
  const selected: SelectedMeasure[] = [];
  for (const definition of MEASURES) {
    if (!marked.has(definition.name)) continue;
    // As trec_eval: the first -m naming the measure with parameters wins.
    const paramText = given.find((g) => g.name === definition.name)?.params;
    const params = parseParams(definition, paramText);
    selected.push({ definition, params, columns: columnNames(definition, params) });
  }
  return selected;
}

function parseParams(def: MeasureDefinition, text: string | undefined): MeasureParams {
  if (text === undefined) return { values: [...def.defaults], pairs: [] };
  const where = `-m ${def.name}.${text}`;
  const parts = text.split(',');
  switch (def.paramKind) {
    case 'none':
      throw new UsageError(`${where}: measure "${def.name}" takes no parameters`);
    case 'longCutoffs': {
      // As trec_eval: each cutoff is read with atol ("20.6" -> 20), then sorted; the smallest must be > 0.
      const values = parts.map((p) => {
        const v = atol(p);
        if (v === undefined) throw new UsageError(`${where}: cutoff "${p}" is not a number`);
        return v;
      }).sort((a, b) => a - b);
      if (values[0]! <= 0) throw new UsageError(`${where}: cutoffs must be positive`);
      if (values.some((v, i) => i > 0 && v === values[i - 1])) throw new UsageError(`${where}: duplicate cutoffs`);
      return { values, pairs: [], printable: text };
    }
    case 'doubleCutoffs': {
      const values = parts.map((p) => parseDouble(p, where)).sort((a, b) => a - b);
      if (values.some((v, i) => i > 0 && v === values[i - 1])) throw new UsageError(`${where}: duplicate cutoffs`);
      return { values, pairs: [], printable: text };
    }
    case 'doubleParams':
      return { values: parts.map((p) => parseDouble(p, where)), pairs: [], printable: text };
    case 'pairs':
      return { values: [], pairs: parsePairs(text, where), printable: text };
  }
}

/** trec_eval's get_param_pairs: `name=value` separated by commas; names may be empty, values read with atof. */
function parsePairs(text: string, where: string): ParamPair[] {
  let last = ',';
  for (const ch of text) {
    if (ch === ',') {
      if (last === ',') break;
      last = ',';
    } else if (ch === '=') {
      if (last === '=') {
        last = ',';
        break;
      }
      last = '=';
    }
  }
  if (last !== '=') throw new UsageError(`${where}: malformed pair parameters (expected comma-separated name=value pairs)`);
  return text.split(',').map((part) => {
    const eq = part.indexOf('=');
    return { name: part.slice(0, eq), value: parseDouble(part.slice(eq + 1), where) };
  });
}

/** atof, refusing a parameter with no number at all (where C would quietly read 0). */
function parseDouble(text: string, where: string): number {
  const v = atof(text);
  if (v === undefined || Number.isNaN(v)) throw new UsageError(`${where}: "${text}" is not a number`);
  return v;
}

function columnNames(def: MeasureDefinition, params: MeasureParams): string[] {
  switch (def.paramKind) {
    case 'longCutoffs':
      return params.values.map((c) => `${def.name}_${c}`);
    case 'doubleCutoffs':
      // trec_eval formats "%s_%3.2f" into a buffer of strlen(name) + 10 bytes: at most 9 characters follow the name.
      return params.values.map((c) => def.name + `_${formatFixed(c, 2)}`.slice(0, 9));
    case 'doubleParams':
    case 'pairs':
      return [params.printable !== undefined ? `${def.name}_${params.printable}` : def.name];
    case 'none':
      return [def.name];
  }
}

/**
 * printf("%.Nf") for doubles: like toFixed, except exact binary ties round half to even, as glibc does
 * (toFixed rounds them away from zero: 0.03125 -> "0.0313" where trec_eval prints "0.0312").
 */
export function formatFixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return '-nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const negative = value < 0 || Object.is(value, -0);
  const abs = Math.abs(value);
  let text = abs.toFixed(digits);
  if (abs < 1e21) {
    const exact = abs.toFixed(Math.min(100, digits + 30));
    const dot = exact.indexOf('.');
    const tail = exact.slice(dot + 1 + digits);
    if (/^50*$/.test(tail)) {
      const truncated = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
      const lastDigit = Number(truncated[truncated.length - 1]);
      text = lastDigit % 2 === 0 ? truncated : abs.toFixed(digits);
    }
  }
  return negative ? `-${text}` : text;
}
