// Types for serve.mjs (imported by test/edge/worker-example.test.ts).
import type { ExtraModule } from '../../scripts/workerd.mjs';
export const MODULES: ExtraModule[];
export const EXTERNAL: string[];
