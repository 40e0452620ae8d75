#!/usr/bin/env node
// A small static file server for the examples and the page tests, on 127.0.0.1 only.
//   node scripts/static-server.mjs [port] [--isolated]     serves the repo root (default port 8080)
// --isolated adds the cross-origin isolation headers (COOP/COEP) that SharedArrayBuffer, and so
// the threaded build, need in browsers.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.safetensors': 'application/octet-stream', '.map': 'application/json',
};

/**
 * Serve `root` on 127.0.0.1 (port 0: a free one).
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export function serveStatic(root, { port = 0, isolated = false } = {}) {
  const base = normalize(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base.endsWith(sep) ? base : base + sep)) { res.writeHead(403).end(); return; }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      statSync(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      ...(isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({
        url: `http://127.0.0.1:${p}`,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 8080);
  const s = await serveStatic(new URL('../', import.meta.url).pathname, { port, isolated: process.argv.includes('--isolated') });
  console.log(`serving the repo root on ${s.url}: open ${s.url}/examples/browser/`);
}
