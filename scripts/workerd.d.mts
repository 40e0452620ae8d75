// Types for scripts/workerd.mjs (imported by the TypeScript tests).
export interface ExtraModule { name: string; kind: 'wasm' | 'data' | 'text' | 'json'; file: string }
export interface Workerd { url: string; stop(): Promise<void>; log(): string }
export function startWorker(entry: string, modules: ExtraModule[], opts?: { external?: string[]; port?: number }): Promise<Workerd>;
export function getJson<T = Record<string, unknown>>(url: string, timeoutMs?: number): Promise<{ status: number; body: T }>;
