// Running a Cloudflare module worker locally in workerd (the `workerd` npm package): bundle the
// worker with esbuild (imports matching `external` stay separate modules: .wasm files become
// WebAssembly.Module, data files ArrayBuffer), write a workerd config, serve on 127.0.0.1,
// wait until it answers (bounded), and stop it. Used by the edge tests and by
// `npm run example:worker`.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const WORKERD = new URL('../node_modules/.bin/workerd', import.meta.url).pathname;

/**
 * @param {string} entry the worker's source file
 * @param {{ name: string, kind: 'wasm' | 'data' | 'text' | 'json', file: string }[]} modules modules the worker imports by name
 * @param {{ external?: string[], port?: number }} [opts] port 0 (default): a free one
 */
export async function startWorker(entry, modules, { external = [], port = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-workerd-'));
  const child = { proc: null };
  const stop = async () => {
    const p = child.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let log = '';
  try {
    await build({
      entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['module', 'main'], external, outfile: join(dir, 'worker.js'), logLevel: 'error',
    });
    const files = modules.map((m, i) => {
      const file = `m${i}-${m.name.replace(/[^\w.-]/g, '_')}`;
      copyFileSync(m.file, join(dir, file));
      return `    (name = "${m.name}", ${m.kind} = embed "${file}"),`;
    });
    const listen = port || (await freePort());
    writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${listen}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
${files.join('\n')}
  ],
  compatibilityDate = "2026-11-01",
);
`);
    const p = (child.proc = spawn(WORKERD, ['serve', 'config.capnp'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
    p.stdout.on('data', (d) => { log += d; });
    p.stderr.on('data', (d) => { log += d; });
    const url = `http://127.0.0.1:${listen}`;
    // Up to ~15 s for workerd to compile the worker and listen; each probe times out after 1 s.
    for (let i = 0; ; i++) {
      if (p.exitCode !== null) throw new Error(`workerd exited with ${p.exitCode}:\n${log}`);
      try {
        await (await fetch(url, { signal: AbortSignal.timeout(1000) })).arrayBuffer();
        return { url, stop, log: () => log };
      } catch (err) {
        if (i >= 150) throw new Error(`workerd did not answer on ${url} within 15 s (${err.message}):\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** GET with a timeout (default 10 s); the status and the body parsed as JSON. */
export async function getJson(url, timeoutMs = 10_000) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.json() };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
