/** The absolute path of the demo's dist/ folder. */
export const dist: string;
/** Builds dist/ (or `outdir`) once, or keeps rebuilding it when `watch` is true. */
export function buildDemo(options?: { watch?: boolean; outdir?: string }): Promise<unknown>;
