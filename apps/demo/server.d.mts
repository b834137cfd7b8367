/** The repo's Fashion-MNIST folder, served under /data/fashion-mnist/ by default. */
export const fashionMnistDir: string;
/**
 * Serves `root` on host:port (port 0 picks a free one) with COOP/COEP unless `isolate` is false;
 * `mounts` maps URL prefixes to more folders (default: Fashion-MNIST under /data/fashion-mnist/).
 */
export function startServer(options: { root: string; port?: number; host?: string; isolate?: boolean; mounts?: Record<string, string> }): Promise<{ url: string; close(): Promise<void> }>;
