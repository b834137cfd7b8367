/** The absolute path of the demo's dist/ folder. */
export const dist: string;
/** Builds dist/ once, or keeps rebuilding it when `watch` is true. */
export function buildDemo(options?: { watch?: boolean }): Promise<unknown>;
