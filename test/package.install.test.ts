/**
 * The package as users get it: `npm pack`, the tarball installed into an empty project (the npm registry at most
 * for dependencies npm's cache lacks; --ignore-scripts, with the addon this checkout built copied in, since
 * compiling libtorch bindings again would take minutes), then from that project: `densekit --help`, the main
 * job (`densekit demo`, data and model from the package) and the README's library example. No EBADENGINE
 * warning on this Node version, which `engines` claims.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './helpers.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The ```ts blocks of the README's "## Library" section, as JavaScript (types stripped; test/readme.test.ts type-checks them). */
function readmeLibraryExamples(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Library');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length > 0, 'README has ```ts blocks under ## Library');
  return blocks.map((code) => ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
}

test('npm pack -> install into an empty project -> --help, the main job and the README library example run there', { timeout: 20 * 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'densekit-pack-'));
  try {
    const packed = execFileSync(npm, ['pack', '--silent', '--pack-destination', work], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').pop()!;
    const tarball = join(work, packed);
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'try-densekit', private: true, type: 'module' }));
    const install = spawnSync(npm, ['install', tarball, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8' });
    assert.equal(install.status, 0, install.stderr);
    assert.doesNotMatch(install.stderr + install.stdout, /EBADENGINE/);
    const installed = join(project, 'node_modules', 'densekit');
    mkdirSync(join(installed, 'build', 'Release'), { recursive: true });
    copyFileSync(join(repoRoot, 'build', 'Release', 'densekit.node'), join(installed, 'build', 'Release', 'densekit.node'));
    const bin = join(project, 'node_modules', '.bin', 'densekit');

    const help = spawnSync(bin, ['--help'], { cwd: project, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    for (const verb of ['encode', 'search', 'beir', 'train', 'download', 'demo']) assert.match(help.stdout, new RegExp(`\\n  ${verb}\\b`));

    const demo = spawnSync(bin, ['demo'], { cwd: project, encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    assert.equal(demo.status, 0, demo.stderr);
    const row = (name: string) => Number(new RegExp(`^${name}\\s+([\\d.]+)`, 'm').exec(demo.stdout)?.[1]);
    assert.ok(row('bm25') > 0.67 && row('bm25') < 0.69, demo.stdout); // Anserini's BEIR "flat" figure: 0.6789
    assert.ok(row('dense') >= 0.3, `the demo model reaches nDCG@10 >= 0.30 on SciFact test: ${demo.stdout}`);
    assert.ok(row('hybrid') > 0, demo.stdout);

    // The README's library example, run as a user's script, with the package's data and model where it names them.
    symlinkSync(join(installed, 'data'), join(project, 'data'));
    symlinkSync(join(installed, 'models'), join(project, 'models'));
    let out = '';
    for (const [i, code] of readmeLibraryExamples().entries()) {
      writeFileSync(join(project, `example-${i}.mjs`), code);
      const example = spawnSync(process.execPath, [`example-${i}.mjs`], { cwd: project, encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', XDG_CACHE_HOME: join(work, 'cache') } });
      assert.equal(example.status, 0, `README library block ${i + 1}: ${example.stderr}`);
      out += example.stdout;
    }
    assert.match(out, /^dense 0\.\d+$/m, 'the runBeir example prints the dense nDCG@10');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
