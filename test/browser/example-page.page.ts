// examples/browser/ as a person opens it: the repo served by a static server, the page loaded
// in headless Chromium (playwright-core), training until its loss has clearly dropped, with no
// errors, and a screenshot written for a look (path printed; SCREENSHOT_DIR sets the folder).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../../scripts/static-server.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let browser: Browser;
let server: { url: string; close(): Promise<void> };

beforeAll(async () => {
  server = await serveStatic(ROOT);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('examples/browser: live training page', () => {
  it('loads the package unbundled, trains, plots a falling loss, samples text', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    const errors: string[] = [];
    const crashed = new Promise<never>((_, reject) => page.on('pageerror', (e) => { errors.push(String(e)); reject(e); }));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(`${server.url}/examples/browser/`, { timeout: 15_000 });
    // 150 updates of 16 × 32 characters: a few seconds here.
    await Promise.race([crashed, page.waitForFunction(() => Number(document.body.dataset.steps ?? 0) >= 150 || document.body.dataset.error,
      undefined, { timeout: 60_000, polling: 200 })]);
    const d = await page.evaluate(() => ({ ...document.body.dataset, sample: document.getElementById('sample')!.textContent ?? '' })) as
      { error?: string; build?: string; steps?: string; lossFirst?: string; lossLast?: string; sample: string };
    expect(d.error, `page error: ${d.error}`).toBeUndefined();
    expect(errors).toEqual([]);
    expect(d.build).toBe('wasm-rnn.relaxed.wasm');
    const first = Number(d.lossFirst), last = Number(d.lossLast);
    console.log(`example page: ${d.steps} updates, ${first.toFixed(2)} → ${last.toFixed(2)} bits/char; sample: ${JSON.stringify(d.sample.slice(0, 60))}`);
    expect(first).toBeGreaterThan(4);      // ≈ log2(25): a uniform guess
    expect(last).toBeLessThan(first * 0.7);
    expect(d.sample.startsWith('the ')).toBe(true);
    expect(d.sample.length).toBeGreaterThan(100);
    const shot = join(process.env.SCREENSHOT_DIR ?? tmpdir(), 'wasm-rnn-example-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
    await page.close();
  });
});
