// Entry for Deno and Bun: the package's default loader (init() with no argument reads the
// .wasm next to dist/), then the inference check; prints one JSON line.
import { readFile } from 'node:fs/promises';
import { init, defaultBuild } from '../../dist/index.js';
import { checkInference } from './inference.mjs';

const runtime = typeof Deno === 'object' ? `deno ${Deno.version.deno}` : typeof Bun === 'object' ? `bun ${Bun.version}` : `node ${process.version}`;
await init();
const fixtures = new URL('./fixtures/', import.meta.url);
const result = checkInference(
  await readFile(new URL('model.safetensors', fixtures)),
  JSON.parse(await readFile(new URL('expected.json', fixtures), 'utf8')),
);
console.log(JSON.stringify({ runtime, build: defaultBuild().pathname.split('/').pop(), ...result }));
