/**
 * The package's name and version, read once from package.json at run time:
 * `../../package.json` from this module is the package root both from src/cli
 * (tsx) and from dist/cli (after `npm run build`). `--version` and the tool
 * block of the JSON and SARIF outputs read it here.
 */
import { readFileSync } from 'node:fs';

export const TOOL: { readonly name: string; readonly version: string; readonly homepage?: string } = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf-8')) as {
    name: string;
    version: string;
    homepage?: string;
  };
  return { name: pkg.name, version: pkg.version, ...(pkg.homepage ? { homepage: pkg.homepage } : {}) };
})();
