/** `densekit verify PATH`: every recorded file hashed, every reader's checks run; exit 0 only if all is well. */
import type { Command } from 'commander';
import { DensekitError } from '../errors.js';
import { verifyPath } from '../pipeline/verify.js';

const LABEL = { ok: 'ok  ', bad: 'FAIL', note: 'note' } as const;

export function register(program: Command): void {
  program
    .command('verify')
    .description('check an index, encode, model or checkpoint folder (or a folder of them, e.g. a BEIR cache) against the sizes and sha256 recorded when it was written')
    .argument('<path>', 'the folder (or its index.json / manifest.json / densekit-files.json / latest.json)')
    .action(async (path: string) => {
      const lines = await verifyPath(path);
      for (const l of lines) process.stdout.write(`${LABEL[l.status]} ${l.path}: ${l.detail}\n`);
      const bad = lines.filter((l) => l.status === 'bad');
      if (bad.length) throw new DensekitError(`${path}: ${bad.length} of ${lines.length} checks failed, first ${bad[0]!.path}: ${bad[0]!.detail}`);
    });
}
