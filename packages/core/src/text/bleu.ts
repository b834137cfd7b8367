// Corpus-level BLEU (see: Papineni et al. 2002): modified n-gram precisions for n = 1…4 summed over
// the corpus, their geometric mean, and a brevity penalty from the total lengths. Tokens are strings.

export interface BleuResult {
  /** 0…100 */
  bleu: number;
  precisions: number[];
  brevityPenalty: number;
  hypothesisLength: number;
  referenceLength: number;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0001');
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

/**
 * BLEU of tokenised hypotheses against one or more tokenised references each (the closest reference
 * length counts for the brevity penalty, as in Papineni et al. and sacreBLEU).
 *
 * @example
 * ```ts
 * text.corpusBleu([['the', 'cat']], [[['the', 'cat']]]).bleu; // 100 only with ≥ 4 tokens; here 0
 * ```
 */
export function corpusBleu(hypotheses: readonly (readonly string[])[], references: readonly (readonly (readonly string[])[])[], maxN = 4): BleuResult {
  if (hypotheses.length !== references.length) throw new Error(`corpusBleu: ${hypotheses.length} hypotheses but ${references.length} reference sets`);
  const matches = new Array<number>(maxN).fill(0), totals = new Array<number>(maxN).fill(0);
  let hypLen = 0, refLen = 0;
  hypotheses.forEach((hyp, s) => {
    const refs = references[s]!;
    hypLen += hyp.length;
    let closest = refs[0]?.length ?? 0;
    for (const r of refs) {
      const d = Math.abs(r.length - hyp.length), dc = Math.abs(closest - hyp.length);
      if (d < dc || (d === dc && r.length < closest)) closest = r.length;
    }
    refLen += closest;
    for (let n = 1; n <= maxN; n++) {
      const h = ngramCounts(hyp, n);
      const maxRef = new Map<string, number>();
      for (const r of refs) for (const [k, c] of ngramCounts(r, n)) maxRef.set(k, Math.max(maxRef.get(k) ?? 0, c));
      for (const [k, c] of h) matches[n - 1]! += Math.min(c, maxRef.get(k) ?? 0);
      totals[n - 1]! += Math.max(0, hyp.length - n + 1);
    }
  });
  const precisions = matches.map((m, i) => (totals[i]! > 0 ? m / totals[i]! : 0));
  const brevityPenalty = hypLen === 0 ? 0 : hypLen >= refLen ? 1 : Math.exp(1 - refLen / hypLen);
  const logMean = precisions.every((p) => p > 0) ? precisions.reduce((a, p) => a + Math.log(p), 0) / maxN : -Infinity;
  return { bleu: 100 * brevityPenalty * Math.exp(logMean), precisions, brevityPenalty, hypothesisLength: hypLen, referenceLength: refLen };
}
