/** Serves `root` on host:port (port 0 picks a free one) with COOP/COEP unless `isolate` is false. */
export function startServer(options: { root: string; port?: number; host?: string; isolate?: boolean }): Promise<{ url: string; close(): Promise<void> }>;
