/**
 * Property-based fuzzing of file readers with fast-check: every byte string, random or a mutation of a valid
 * file (bit flips, truncation, insertion, duplication), must give a result or a DensekitError with a one-line
 * message; anything else (a TypeError, a RangeError, a native crash in a child, a hang) is a failure.
 * Budget: 300 cases per reader from a fixed seed in the suite (DENSEKIT_FUZZ_RUNS, DENSEKIT_FUZZ_SEED); `npm run fuzz`
 * searches for DENSEKIT_FUZZ_MS per reader from a fresh seed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DensekitError } from '../src/errors.js';

export const FUZZ_MS = Number(process.env.DENSEKIT_FUZZ_MS ?? 1500);
/** Cases per reader in the suite (DENSEKIT_FUZZ_RUNS). */
export const FUZZ_RUNS = Number(process.env.DENSEKIT_FUZZ_RUNS ?? 300);
/** A case slower than this counts as a hang (the readers' inputs here are at most a few hundred KB). */
const HANG_MS = Number(process.env.DENSEKIT_FUZZ_HANG_MS ?? 10_000);

export interface Tally {
  reader: string;
  tried: number;
  accepted: number;
  refused: number;
  crashes: number;
  hangs: number;
  silent: number;
}
export const tallies: Tally[] = [];

type Mutation = { kind: 'flip' | 'set' | 'cut' | 'insert' | 'dup'; at: number; value: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'set', 'cut', 'insert', 'dup'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  len: fc.integer({ min: 1, max: 64 }),
});

function mutate(seed: Uint8Array, ops: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(seed);
  for (const op of ops) {
    const at = b.length ? op.at % (b.length + 1) : 0;
    if (op.kind === 'flip' && at < b.length) b[at] = b[at]! ^ (1 << (op.value & 7));
    else if (op.kind === 'set' && at < b.length) b[at] = op.value;
    else if (op.kind === 'cut') b = b.subarray(0, at);
    else if (op.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.alloc(op.len, op.value), b.subarray(at)]);
    else if (op.kind === 'dup') b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + op.len), b.subarray(at)]);
  }
  return b;
}

/** Random bytes, or (mostly) a valid seed file with a few mutations: the mutations reach past the first header check. */
export function hostileBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
    { weight: 4, arbitrary: fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([i, ops]) => mutate(seeds[i]!, ops)) },
  );
}

export interface ReaderCase {
  name: string;
  /** Valid files of the format, to mutate. */
  seeds: Uint8Array[];
  /** Reads the file at `path` (inside a fresh folder `dir`) fully, as densekit would. */
  read: (path: string, dir: string) => unknown;
  /** File name the reader expects. */
  file: string;
  /** Fills the rest of the folder (the valid files around the fuzzed one). */
  setup?: (dir: string) => void;
  /** Bytes that must never be accepted (a silent acceptance), when the format lets the test tell. */
  mustRefuse?: (bytes: Uint8Array) => boolean;
}

/** Runs one reader against hostile bytes for the budget; records a tally; fails on the first crash or hang. */
export async function fuzzReader(root: string, c: ReaderCase): Promise<Tally> {
  const t: Tally = { reader: c.name, tried: 0, accepted: 0, refused: 0, crashes: 0, hangs: 0, silent: 0 };
  for (const seed of c.seeds) {
    const dir = join(root, `${c.name.replace(/\W+/g, '-')}-seed`);
    mkdirSync(dir, { recursive: true });
    c.setup?.(dir);
    writeFileSync(join(dir, c.file), seed);
    await c.read(join(dir, c.file), dir); // the seeds themselves are valid
  }
  // One folder per reader: the readers only read, so the files around the fuzzed one stay valid.
  const dir = join(root, c.name.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  c.setup?.(dir);
  let failure: string | undefined;
  await fc.assert(
    fc.asyncProperty(hostileBytes(c.seeds), async (bytes) => {
      const path = join(dir, c.file);
      writeFileSync(path, bytes);
      t.tried++;
      let problem: string | undefined;
      const started = performance.now();
      try {
        await c.read(path, dir);
        if (c.mustRefuse?.(bytes)) {
          t.silent++;
          problem = `${c.name}: accepted bytes it must refuse`;
        } else t.accepted++;
      } catch (e) {
        if (e instanceof DensekitError && !e.message.includes('\n')) t.refused++;
        else {
          t.crashes++;
          problem = `${c.name}: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`;
        }
      }
      if (performance.now() - started > HANG_MS) {
        t.hangs++;
        problem = `${c.name}: one case took ${(performance.now() - started).toFixed(0)} ms`;
      }
      if (!problem) return true;
      // fast-check shrinks from here: keep the smallest failing input and its message.
      failure = problem;
      writeFileSync(join(root, `${c.name.replace(/\W+/g, '-')}.failing`), bytes);
      return false;
    }),
    // In the suite a fixed seed and a fixed number of cases, so a run is the same on any machine (a time budget would
    // reach further on a fast one and fail there first); `npm run fuzz` sets DENSEKIT_FUZZ_MS and searches for longer.
    process.env.DENSEKIT_FUZZ_MS
      ? { numRuns: 1_000_000, interruptAfterTimeLimit: FUZZ_MS, markInterruptAsFailure: false, seed: Number(process.env.DENSEKIT_FUZZ_SEED ?? Date.now()) }
      : { numRuns: FUZZ_RUNS, seed: Number(process.env.DENSEKIT_FUZZ_SEED ?? 20261202) },
  ).catch((e: Error) => {
    throw new Error(failure ?? e.message);
  });
  tallies.push(t);
  assert.ok(t.tried > 0);
  return t;
}

export function printTallies(): void {
  const total = tallies.reduce((a, t) => ({ tried: a.tried + t.tried, crashes: a.crashes + t.crashes, hangs: a.hangs + t.hangs, silent: a.silent + t.silent }), { tried: 0, crashes: 0, hangs: 0, silent: 0 });
  for (const t of tallies) process.stdout.write(`# fuzz ${t.reader}: ${t.tried} cases, ${t.accepted} accepted, ${t.refused} refused, ${t.crashes} crashes, ${t.hangs} hangs, ${t.silent} silent acceptances\n`);
  process.stdout.write(`# fuzz total: ${total.tried} cases, ${total.crashes} crashes (stack traces), ${total.hangs} hangs, ${total.silent} silent acceptances\n`);
}
