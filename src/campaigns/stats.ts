/**
 * Statistics over the repetitions of one sweep point: mean, sample standard deviation, the 95 %
 * confidence interval of the mean (Student t with n − 1 degrees of freedom, right for the small n
 * of experiment repetitions) and the coefficient of variation. Pure; no I/O.
 */
import { mean as ssMean, sampleStandardDeviation } from 'simple-statistics';

/** Summary of n values of one figure. Fields that need more values than given are null. */
export interface Summary {
  n: number;
  mean: number | null;
  /** Sample standard deviation (divides by n − 1); null for n < 2. */
  sd: number | null;
  /** 95 % confidence interval of the mean: mean ± t(0.975, n − 1) · sd / √n; null for n < 2. */
  ci95: { low: number; high: number; halfWidth: number } | null;
  /** Coefficient of variation sd / |mean| (a fraction, not %); null for n < 2 or a zero mean. */
  cv: number | null;
  min: number | null;
  max: number | null;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-13). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularized incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Cumulative distribution of Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (0 < p < 1), by bisection on the CDF. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile p must be in (0, 1) (got ${p})`);
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0 (got ${df})`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Summarize the finite values among `values` (null/undefined/NaN are left out, not counted). */
export function summarize(values: ReadonlyArray<number | null | undefined>): Summary {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n, mean: null, sd: null, ci95: null, cv: null, min: null, max: null };
  const m = ssMean(xs);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  if (n < 2) return { n, mean: m, sd: null, ci95: null, cv: null, min, max };
  const sd = sampleStandardDeviation(xs);
  const halfWidth = studentTQuantile(0.975, n - 1) * (sd / Math.sqrt(n));
  return { n, mean: m, sd, ci95: { low: m - halfWidth, high: m + halfWidth, halfWidth }, cv: m !== 0 ? sd / Math.abs(m) : null, min, max };
}
