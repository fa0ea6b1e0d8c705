/**
 * The search page's files, read once at startup and served from memory.
 *
 * Choice of toolchain: a hand-written HTML page and stylesheet plus one TypeScript module (web/client.ts)
 * that tsc compiles with the rest of the project (to dist/src/serve/web/client.js); no bundler, no CDN.
 * tsc does not copy .html/.css into dist, so those are read from the source tree (src/serve/web/), which
 * ships with the package. Under tsx (development and tests) there is no compiled client.js, so the
 * TypeScript source is transpiled here with the `typescript` compiler instead.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface WebAssets {
  html: string;
  css: string;
  js: string;
}

const HERE_IS_SOURCE = import.meta.url.endsWith('.ts');

function sourceDir(): string {
  const candidates = [new URL('./web/', import.meta.url), new URL('../../../src/serve/web/', import.meta.url)];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(`the web page's files (index.html, style.css) are missing: looked in ${candidates.map((c) => fileURLToPath(c)).join(' and ')}`);
}

async function clientScript(dir: string): Promise<string> {
  if (!HERE_IS_SOURCE) {
    const compiled = fileURLToPath(new URL('./web/client.js', import.meta.url));
    return readFile(compiled, 'utf8');
  }
  const ts = (await import('typescript')).default;
  const source = await readFile(`${dir}client.ts`, 'utf8');
  const out = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
    fileName: 'client.ts',
    reportDiagnostics: true,
  });
  if (out.diagnostics?.length) {
    throw new Error(`web/client.ts: ${ts.flattenDiagnosticMessageText(out.diagnostics[0]!.messageText, ' ')}`);
  }
  return out.outputText;
}

let loaded: Promise<WebAssets> | undefined;

/** Reads (and under tsx, transpiles) the page's files once per process. */
export function loadWebAssets(): Promise<WebAssets> {
  loaded ??= readWebAssets();
  return loaded;
}

async function readWebAssets(): Promise<WebAssets> {
  const dir = sourceDir();
  const [html, css, js] = await Promise.all([
    readFile(`${dir}index.html`, 'utf8'),
    readFile(`${dir}style.css`, 'utf8'),
    clientScript(dir),
  ]);
  return { html, css, js };
}
