/**
 * Runs the densekit CLI in a child process: the compiled one under dist/ when tests run compiled,
 * the TypeScript sources through tsx when a test file is run directly with `node --import tsx --test`.
 */
import { spawnSync, spawn, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

const compiled = import.meta.url.endsWith('.js');

export function cliCommand(args: readonly string[]): { cmd: string; argv: string[] } {
  const argv = compiled ? [join(repoRoot, 'dist/src/cli/run.js'), ...args] : ['--import', 'tsx', join(repoRoot, 'src/cli/run.ts'), ...args];
  return { cmd: process.execPath, argv };
}

export interface CliResult {
  code: number;
  /** The signal that killed the child (a crash), or null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const { cmd, argv } = cliCommand(args);
  const r: SpawnSyncReturns<string> = spawnSync(cmd, argv, {
    cwd: opts.cwd ?? repoRoot,
    encoding: 'utf8',
    input: opts.input,
    env: { ...process.env, ...opts.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 1, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI without waiting (servers, kill-and-resume tests). */
export function spawnCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  const { cmd, argv } = cliCommand(args);
  return spawn(cmd, argv, { cwd: repoRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
