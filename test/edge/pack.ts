// The package as a consumer gets it: `npm pack` of the built tree (dist/ and build/ must be
// built: `npm test` builds first), installed from the tarball into a scratch project.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

export interface Packed {
  /** The scratch project, with wasm-rnn installed in node_modules/. */
  dir: string;
  tarball: string;
  /** Paths inside the tarball, relative to the package root. */
  files: string[];
  cleanup(): void;
}

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

/** Pack the repo (without re-running `prepare`), install the tarball offline into a fresh project. */
export function packAndInstall(prefix: string): Packed {
  const dir = mkdtempSync(join(tmpdir(), `wasm-rnn-${prefix}-`));
  try {
    const [info] = JSON.parse(npm(['pack', ROOT, '--ignore-scripts', '--json', '--pack-destination', dir], dir)) as
      { filename: string; files: { path: string }[] }[];
    const tarball = join(dir, info.filename);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    npm(['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], dir);
    return { dir, tarball, files: info.files.map((f) => f.path).sort(), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The .wasm builds the package declares in `files`. */
export function declaredWasm(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  return pkg.files.filter((f) => f.endsWith('.wasm')).sort();
}
