// Types for scripts/static-server.mjs (imported by the TypeScript tests).
export function serveStatic(root: string, opts?: { port?: number; isolated?: boolean }): Promise<{ url: string; close(): Promise<void> }>;
