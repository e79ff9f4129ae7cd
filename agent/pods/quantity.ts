// Kubernetes resource quantities ("500m", "64Mi", "1.5", "1e3") as plain numbers.

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

export class QuantityError extends Error {}

/** Parses a quantity into its base unit (cores, bytes). Throws QuantityError on bad text. */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$/.exec(text.trim());
  if (!m || Number.isNaN(Number(m[1]))) throw new QuantityError(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${JSON.stringify(text)}`);
  return Number(m[1]) * SUFFIX[m[2]!]!;
}
