// examples/worker/ in workerd: the trained character model served over HTTP with stateful
// stepping. Checks the answers are consistent with one another (the top prediction after a
// text is the first greedy character of its completion, and so on) and that bad input is a
// clear 400, not a crash. Needs `npm run build` first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL, MODULES } from '../../examples/worker/serve.mjs';
import { getJson, startWorker, type Workerd } from '../../scripts/workerd.mjs';

interface Predict { text: string; next: { char: string; p: number }[]; error?: string }
interface Complete { text: string; completion: string; steps: number; error?: string }

let worker: Workerd;
beforeAll(async () => {
  worker = await startWorker(new URL('../../examples/worker/worker.js', import.meta.url).pathname, MODULES, { external: EXTERNAL });
}, 30_000);
afterAll(async () => { await worker?.stop(); });

const q = (path: string, params: Record<string, string | number>) =>
  `${worker.url}${path}?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}`;

describe('examples/worker: next-character predictions in workerd', () => {
  it('/predict: a probability distribution, most likely first, and it has learnt the words', async () => {
    const { status, body } = await getJson<Predict>(q('/predict', { text: 'the ca', k: 25 }));
    expect(status, body.error).toBe(200);
    expect(body.next).toHaveLength(25);
    const total = body.next.reduce((a, n) => a + n.p, 0);
    expect(total).toBeGreaterThan(0.99);
    expect(total).toBeLessThan(1.01);
    for (let i = 1; i < body.next.length; i++) expect(body.next[i].p).toBeLessThanOrEqual(body.next[i - 1].p);
    expect(body.next[0].char).toBe('t'); // "the cat"
  });

  it('/complete steps from the carried state: each character is the top /predict of the text before it', async () => {
    const { status, body } = await getJson<Complete>(q('/complete', { text: 'a ', n: 12 }));
    expect(status, body.error).toBe(200);
    expect(body.completion).toHaveLength(12);
    expect(body.steps).toBe(14);
    for (let i = 0; i < 4; i++) {
      const r = await getJson<Predict>(q('/predict', { text: 'a ' + body.completion.slice(0, i), k: 1 }));
      expect(r.body.next[0].char, `after ${JSON.stringify('a ' + body.completion.slice(0, i))}`).toBe(body.completion[i]);
    }
    const again = await getJson<Complete>(q('/complete', { text: 'a ', n: 12 }));
    expect(again.body.completion).toBe(body.completion); // state is reset per request
    const sampled = await getJson<Complete>(q('/complete', { text: 'the ', n: 40, temperature: 0.8, seed: 7 }));
    expect(sampled.body.completion).toHaveLength(40);
  });

  it('rejects characters the model never saw, and missing text, with a 400 that says why', async () => {
    const r = await getJson<Predict>(q('/predict', { text: 'The' }));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/never saw: "T"/);
    expect((await getJson<Predict>(`${worker.url}/predict`)).status).toBe(400);
    expect((await getJson<Predict>(`${worker.url}/nope?text=a`)).status).toBe(404);
  });
});
