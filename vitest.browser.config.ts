// The browser suite (`npm run test:browser`): the core API tests in headless Chromium through
// vitest browser mode, once per WASM build; the threaded build in a cross-origin isolated page;
// and node-side tests that drive Chromium themselves (the example page, bundled apps). Chromium is Debian's (`apt-get install -y chromium`);
// CHROMIUM_PATH overrides where it is looked for.
import { accessSync, constants } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM, CHROMIUM_ARGS } from './test/browser/chromium.js';

try {
  accessSync(CHROMIUM, constants.X_OK);
} catch {
  throw new Error(`test:browser: no Chromium at ${CHROMIUM}. Install it (apt-get install -y chromium, as .ci/run does) ` +
    'or set CHROMIUM_PATH to a Chromium binary.');
}

const provider = playwright({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 } });

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'chromium',
          include: ['test/browser/**/*.browser.ts'],
          testTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            provider,
            screenshotFailures: false,
            instances: [
              { browser: 'chromium', name: 'chromium-simd', provide: { wasmBuild: 'simd' } },
              { browser: 'chromium', name: 'chromium-relaxed', provide: { wasmBuild: 'relaxed' } },
            ],
          },
        },
      },
      {
        // Cross-origin isolated (COOP/COEP), so SharedArrayBuffer and the threaded build work.
        server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
        test: {
          name: 'threads',
          include: ['test/browser/**/*.isolated.ts'],
          testTimeout: 60_000,
          browser: { enabled: true, headless: true, provider, screenshotFailures: false, instances: [{ browser: 'chromium', name: 'chromium-threads' }] },
        },
      },
      {
        test: {
          name: 'pages',
          include: ['test/browser/**/*.page.ts'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
    ],
  },
});
