/**
 * Comparing secrets without leaking, through timing, how much of a guess was right: both sides are digested
 * first (so lengths never differ) and compared with the runtime's constant-time primitive.
 */
const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** Whether `given` equals `expected`, in time independent of where they differ. */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Whether two lower-case hex digests of equal length are equal, in constant time. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b));
}
