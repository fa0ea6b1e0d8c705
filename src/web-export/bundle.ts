/**
 * Bundles the page script (browser/app.ts, which pulls in src/text) into one ES module with esbuild, when a
 * site is exported. src/text was written for Node: its loaders read files with node:fs, join paths with node:path
 * and use Buffer. Rather than fork them, the bundle maps node:fs to an in-memory folder of the fetched files
 * (browser/node-fs.ts), node:path to path-browserify and Buffer to the `buffer` package, so the browser runs the
 * very code `densekit tokenize` runs (test/web-export.browser.test.ts checks the ids on hard strings).
 * Works from the compiled tree (dist/src/web-export/*.js) and from the sources under tsx.
 */
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const here = (name: string): string => fileURLToPath(new URL(`./browser/${name}${EXT}`, import.meta.url));

export async function bundlePage(): Promise<string> {
  const esbuild = await import('esbuild');
  const require = createRequire(import.meta.url);
  const result = await esbuild.build({
    entryPoints: [here('app')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    alias: { 'node:fs': here('node-fs'), 'node:path': require.resolve('path-browserify') },
    inject: [here('buffer-global')],
    // Nothing the page reaches reads the environment; an empty one keeps stray `process.env.X` checks false.
    define: { 'process.env': '{}' },
  });
  if (result.outputFiles.length !== 1) throw new Error(`esbuild wrote ${result.outputFiles.length} files for the page, expected 1`);
  return result.outputFiles[0]!.text;
}
