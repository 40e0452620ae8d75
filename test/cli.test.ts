// The command line's main job, end to end on the built package: train a character model on a
// text file, write a checkpoint and a loss plot, sample; then sample from the checkpoint.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { grammarText, readSafetensors, writeSafetensors } from '../src/index.js';

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

  it('checks every flag before training, and never leaves a checkpoint half-written or replaced by a failed run', async () => {
    const fail = async (args: string[]) => run('node', [CLI, ...args], { cwd: dir }).then(() => { throw new Error(`should fail: ${args.join(' ')}`); }, (e) => e);
    const text = join(dir, 'small.txt'), out = join(dir, 'keep.safetensors');
    writeFileSync(text, grammarText(60, 4));
    writeFileSync(out, 'the previous checkpoint');
    const tiny = ['train', text, '--hidden', '4', '--embed', '3', '--epochs', '1', '--batch', '2', '--seq', '8', '--out', out, '--plot', join(dir, 'p.svg')];
    for (const [flags, msg] of [
      [['--length', '0'], /--length must be an integer ≥ 1, got 0/], [['--prime', 'Z'], /--prime has a character not in the text: "Z"/],
      [['--top-p', '2'], /--top-p must be a number in \(0, 1\], got 2/], [['--top-p', '0'], /--top-p/], [['--lr', '0'], /--lr must be a positive number, got 0/],
      [['--dropout', '1'], /--dropout must be a probability in \[0, 1\), got 1/], [['--hidden', '1e1'], /--hidden must be an integer ≥ 1, got 1e1/],
      [['--hidden', '0x10'], /--hidden/], [['--prime', ''], /--prime must have at least one character/],
    ] as [string[], RegExp][]) {
      const r = await fail([...tiny, ...flags]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr, flags.join(' ')).toMatch(msg);
      expect(r.stderr, flags.join(' ')).not.toMatch(/epoch 1/); // refused before training
    }
    // A plot that cannot be written: the run fails, the checkpoint is not replaced, no temporary file is left.
    const r = await fail([...tiny.slice(0, -2), '--plot', join(dir, 'no-such-dir', 'p.svg')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write .*no-such-dir\/p.svg/);
    expect(readFileSync(out, 'utf8')).toBe('the previous checkpoint');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Five emoji are five characters (not ten UTF-16 units): the CLI's own message.
    writeFileSync(join(dir, 'emoji.txt'), '😀😀😀😀😀');
    const u = await fail(['train', join(dir, 'emoji.txt'), '--batch', '8', '--seq', '1']);
    expect(u.stderr).toMatch(/the text has 5 characters; --batch × --seq needs at least 9/);
  });

  it('sample: a vocabulary that does not fit the model is refused', async () => {
    const text = join(dir, 'v.txt'), out = join(dir, 'v.safetensors');
    writeFileSync(text, grammarText(40, 5));
    await run('node', [CLI, 'train', text, '--hidden', '4', '--embed', '3', '--epochs', '1', '--batch', '2', '--seq', '8', '--out', out, '--plot', join(dir, 'v.svg'), '--length', '1']);
    const file = readSafetensors(readFileSync(out));
    const V = (JSON.parse(file.metadata.vocab) as string[]).length;
    for (const [vocab, msg] of [
      ['["t","h"]', `the vocabulary has 2 characters, the model ${V} inputs and ${V} outputs`], ['[', 'its vocabulary is not valid JSON'],
      [JSON.stringify(Array(V).fill('a')), 'its vocabulary repeats a character'], ['["ab"]', 'its vocabulary is not a list of characters'],
    ]) {
      const bad = join(dir, 'bad.safetensors');
      writeFileSync(bad, writeSafetensors(file.tensors, { ...file.metadata, vocab }));
      const r = await run('node', [CLI, 'sample', bad, '--length', '5']).then(() => { throw new Error('should fail'); }, (e) => e);
      expect(r.code, vocab).toBe(1);
      expect(r.stderr, vocab).toContain(msg);
    }
  });
});
