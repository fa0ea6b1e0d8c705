/**
 * The README's Library section cannot drift: every ```ts block in it is type-checked against the package as a
 * user imports it (`import ... from 'densekit'`, resolved through package.json to dist/) and then run, in order
 * and in one folder, with node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { datasetsDir, fixturesDir, repoRoot } from './helpers.js';

/** The ```ts blocks between "## Library" and the next "## " heading. */
function libraryBlocks(readme: string): string[] {
  const start = readme.indexOf('\n## Library\n');
  assert.ok(start >= 0, 'README has a Library section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test('every ts block of the README Library section type-checks and runs', () => {
  const blocks = libraryBlocks(readFileSync(join(repoRoot, 'README.md'), 'utf8'));
  assert.ok(blocks.length >= 3, `found ${blocks.length} blocks`);
  const work = mkdtempSync(join(tmpdir(), 'densekit-readme-'));
  try {
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    mkdirSync(join(work, 'node_modules'));
    symlinkSync(repoRoot, join(work, 'node_modules', 'densekit'), 'dir');
    // The examples name models/scifact-mini and data/scifact, as a user has them in the repository. Until the
    // repository ships those two folders (the hub task adds them), they are links to the shared fixtures: the tiny
    // TAS-B model and the SciFact dataset.
    const shipped = (path: string, fallback: string): string => (existsSync(join(repoRoot, path)) ? join(repoRoot, path) : fallback);
    mkdirSync(join(work, 'models'));
    mkdirSync(join(work, 'data'));
    symlinkSync(shipped('models/scifact-mini', join(fixturesDir, 'models', 'tasb-distilbert-tiny')), join(work, 'models', 'scifact-mini'), 'dir');
    symlinkSync(shipped('data/scifact', join(datasetsDir, 'scifact')), join(work, 'data', 'scifact'), 'dir');

    const files = blocks.map((code, i) => {
      const file = join(work, `block-${i + 1}.ts`);
      writeFileSync(file, code);
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true, skipLibCheck: true, lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts', 'lib.dom.d.ts'], types: ['node'],
      typeRoots: [join(repoRoot, 'node_modules', '@types')], outDir: work, rootDir: work,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).concat(program.emit().diagnostics);
    const messages = diagnostics.map((d) => {
      const where = d.file ? `${d.file.fileName.slice(work.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
    assert.deepEqual(messages, [], 'the README blocks type-check');

    files.forEach((file, i) => {
      const r = spawnSync(process.execPath, [file.replace(/\.ts$/, '.js')], { cwd: work, encoding: 'utf8' });
      assert.equal(r.status, 0, `block ${i + 1} exited ${r.status}:\n${r.stderr}`);
      assert.ok(r.stdout.trim().length > 0, `block ${i + 1} printed what it shows`);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
