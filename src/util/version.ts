/** densekit's version, from its package.json (recorded in saved models, served in the OpenAPI document). */
import { readFileSync } from 'node:fs';

let cachedVersion: string | undefined;
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
      cachedVersion = pkg.version ?? 'unknown';
    } catch {
      // Compiled into dist/src/util the package file is one level further up.
      try {
        const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
        cachedVersion = pkg.version ?? 'unknown';
      } catch {
        cachedVersion = 'unknown';
      }
    }
  }
  return cachedVersion;
}
