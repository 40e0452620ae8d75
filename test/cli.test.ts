// The command line's main job, end to end on the built package: train a character model on a
// text file, write a checkpoint and a loss plot, sample; then sample from the checkpoint.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { grammarText } from '../src/index.js';

const run = promisify(execFile);
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wasm-rnn CLI', () => {
  it('trains on a text file, reports progress, writes a checkpoint and a plot, and samples', async () => {
    const text = join(dir, 'text.txt');
    writeFileSync(text, grammarText(400, 3));
    const out = join(dir, 'm.safetensors'), plot = join(dir, 'loss.svg');
    const r = await run('node', [CLI, 'train', text, '--hidden', '32', '--epochs', '2', '--batch', '8', '--seq', '32',
      '--out', out, '--plot', plot, '--length', '40', '--prime', 'the '], { cwd: dir });
    expect(r.stderr).toMatch(/epoch 2\/2 · update \d+\/\d+ · [\d.]+ bits\/char/);
    const final = Number(/final ([\d.]+) bits\/char/.exec(r.stderr)![1]);
    expect(final).toBeLessThan(3); // from ~4.5 bits for 25 symbols: it learned something
    expect(r.stdout.trim().startsWith('the ')).toBe(true);
    expect(r.stdout.trim().length).toBe(44);
    expect(readFileSync(plot, 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>$/);
    const s = await run('node', [CLI, 'sample', out, '--prime', 'a ', '--length', '30', '--temperature', '0']);
    expect(s.stdout.trim()).toMatch(/^a .{30}$/s);
  });

  it('fails with a clear message and exit code 2 on bad usage', async () => {
    const fail = async (args: string[]) => run('node', [CLI, ...args]).then(() => { throw new Error('should fail'); }, (e) => e);
    const a = await fail(['train']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/give a text file, or --demo/);
    const b = await fail(['train', '--demo', '--hidden', '0']);
    expect(b.stderr).toMatch(/--hidden must be an integer ≥ 1, got 0/);
    const c = await fail(['sample', join(dir, 'missing.safetensors')]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/missing.safetensors/);
  });
});
