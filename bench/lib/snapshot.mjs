// `--at REV`: benchmark wasm-rnn as of a git revision rather than whatever dist/ and build/ the
// working tree holds at the moment. The revision is exported with `git archive` into a temporary
// directory and built there (`npm run build`, with the checkout's node_modules linked in), so
// nobody's rebuild of the shared working tree can swap the code under test during a run, and
// the report can name the exact commit measured.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR } from './common.mjs';

const REPO = path.resolve(BENCH_DIR, '..');

/** Build wasm-rnn at `rev` in a temporary copy; returns { root, commit, cleanup() }. */
export function buildAt(rev) {
  const git = (...args) => execFileSync('git', args, { cwd: REPO, maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] });
  const commit = git('rev-parse', '--short', `${rev}^{commit}`).toString().trim();
  if (!existsSync(path.join(REPO, 'node_modules'))) throw new Error('--at needs the root node_modules (npm ci at the root) to build with');
  const root = mkdtempSync(path.join(os.tmpdir(), `wasm-rnn-${commit}-`));
  try {
    execFileSync('tar', ['-x', '-C', root], { input: git('archive', '--format=tar', commit) });
    symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    console.error(`bench: building wasm-rnn at ${commit} in ${root}`);
    execFileSync('npm', ['--loglevel=error', 'run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`could not build wasm-rnn at ${rev}: ${err.message.split('\n')[0]}`);
  }
  return { root, commit, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
