/**
 * Kubernetes resource quantities ("100m", "64Mi", "1e3", "1.5Gi", ...).
 *
 * Grammar (as the API server accepts it):
 *   quantity := sign? number suffix
 *   number   := digits | digits "." digits? | "." digits
 *   suffix   := "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E"
 *             | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
 *             | ("e" | "E") sign? digits
 *
 * Values are kept exact (as a decimal mantissa, a power of ten and a power of 1024)
 * until the caller asks for a unit, so "0.3" is 300 millicores and never 301.
 */

export class QuantityError extends Error {
  constructor(readonly input: string, reason: string) {
    super(`quantity "${input}" is invalid: ${reason}`);
    this.name = 'QuantityError';
  }
}

/** Exact value: sign * mantissa * 10^exp10 * 1024^exp1024. */
interface ExactQuantity {
  negative: boolean;
  mantissa: bigint;
  exp10: number;
  exp1024: number;
}

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const NUMBER_PART = /^([+-]?)([0-9]*)(?:\.([0-9]*))?/;
const EXPONENT = /^[eE]([+-]?[0-9]+)$/;

/** Largest exponent magnitude we accept; beyond it the value is not a resource amount. */
const MAX_EXPONENT = 300;

function parseExact(input: string | number): ExactQuantity {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityError(String(input), 'must be a finite number');
    return parseExact(numberToPlainString(input));
  }
  if (typeof input !== 'string') throw new QuantityError(String(input), 'must be a string or a number');
  const s = input.trim() === input ? input : '';
  if (s === '') throw new QuantityError(input, 'must not be empty or padded with spaces');
  const m = NUMBER_PART.exec(s)!;
  const [numberText, sign, whole = '', fraction = ''] = m;
  if (whole === '' && fraction === '') throw new QuantityError(input, 'must start with a number');
  const suffix = s.slice(numberText.length);

  let exp10 = -fraction.length;
  let exp1024 = 0;
  if (suffix in DECIMAL_SUFFIXES) {
    exp10 += DECIMAL_SUFFIXES[suffix]!;
  } else if (suffix in BINARY_SUFFIXES) {
    exp1024 = BINARY_SUFFIXES[suffix]!;
  } else {
    const e = EXPONENT.exec(suffix);
    if (!e) throw new QuantityError(input, `unknown suffix "${suffix}" (use n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like e3)`);
    const exponent = Number(e[1]);
    if (Math.abs(exponent) > MAX_EXPONENT) throw new QuantityError(input, 'exponent is out of range');
    exp10 += exponent;
  }
  const mantissa = BigInt((whole + fraction).replace(/^0+(?=.)/, '') || '0');
  return { negative: sign === '-' && mantissa !== 0n, mantissa, exp10, exp1024 };
}

/** Number → decimal text without exponent notation surprises ("1e-7" stays exact). */
function numberToPlainString(n: number): string {
  const text = String(n);
  return /e/i.test(text) ? text.replace('e+', 'e') : text;
}

/** value * 10^scale, rounded up (away from zero for positives) like upstream's Value()/MilliValue(). */
function scaledCeil(q: ExactQuantity, scale: number): number {
  let numerator = q.mantissa * 1024n ** BigInt(q.exp1024);
  let denominator = 1n;
  const exp = q.exp10 + scale;
  if (exp >= 0) numerator *= 10n ** BigInt(exp);
  else denominator = 10n ** BigInt(-exp);
  let result = numerator / denominator;
  const remainder = numerator % denominator;
  if (q.negative) return -Number(result);
  if (remainder !== 0n) result += 1n;
  return Number(result);
}

function toNumber(q: ExactQuantity): number {
  // Parsing the decimal text keeps "0.3" exact, where 3 * 10^-1 in floating point would not be.
  const value = Number(`${q.mantissa}e${q.exp10}`) * 1024 ** q.exp1024;
  return q.negative ? -value : value;
}

/** The quantity's value in base units (cores for cpu, bytes for memory). Throws QuantityError. */
export function parseQuantity(s: string | number): number {
  return toNumber(parseExact(s));
}

export function isValidQuantity(s: unknown): boolean {
  if (typeof s !== 'string' && typeof s !== 'number') return false;
  try {
    parseExact(s);
    return true;
  } catch {
    return false;
  }
}

/** CPU quantity → whole millicores, rounded up ("100m" → 100, "0.5" → 500, 2 → 2000). */
export function cpuToMillis(q: string | number): number {
  return scaledCeil(parseExact(q), 3);
}

/** Memory quantity → whole bytes, rounded up ("64Mi" → 67108864, "1G" → 1e9). */
export function memoryToBytes(q: string | number): number {
  return scaledCeil(parseExact(q), 0);
}

/** Cores → canonical CPU quantity: whole cores as "2", anything else in millicores ("250m"). */
export function formatCpu(cores: number): string {
  if (!Number.isFinite(cores)) throw new QuantityError(String(cores), 'must be a finite number');
  const millis = Math.round(cores * 1000);
  if (millis === 0) return '0';
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

const BINARY_FORMAT_ORDER: [string, bigint][] = [
  ['Ei', 1024n ** 6n],
  ['Pi', 1024n ** 5n],
  ['Ti', 1024n ** 4n],
  ['Gi', 1024n ** 3n],
  ['Mi', 1024n ** 2n],
  ['Ki', 1024n],
];

/** Bytes → canonical memory quantity with the largest binary suffix that divides exactly ("8039692Ki", "1Gi", "1000"). */
export function formatMemory(bytes: number): string {
  if (!Number.isFinite(bytes)) throw new QuantityError(String(bytes), 'must be a finite number');
  const whole = BigInt(Math.round(bytes));
  if (whole === 0n) return '0';
  const sign = whole < 0n ? '-' : '';
  const magnitude = whole < 0n ? -whole : whole;
  for (const [suffix, unit] of BINARY_FORMAT_ORDER) {
    if (magnitude % unit === 0n) return `${sign}${magnitude / unit}${suffix}`;
  }
  return `${sign}${magnitude}`;
}
