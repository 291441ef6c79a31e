/** Time-ordered, lexicographically sortable ids (ULID layout: 48-bit milliseconds, 80 random bits, Crockford base32). */

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type Clock = () => number;
export type IdGenerator = () => string;

function encodeTime(ms: number): string {
  let out = "";
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = (ALPHABET[rest % 32] ?? "0") + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/**
 * Returns a generator whose ids sort in creation order, even several within one millisecond
 * (the random part is incremented instead of redrawn, as ULID's monotonic mode does).
 */
export function monotonicIds(
  clock: Clock = Date.now,
  random: (bytes: Uint8Array) => void = fillRandom,
): IdGenerator {
  let lastTime = -1;
  const digits = new Array<number>(16).fill(0);
  return function nextId() {
    const now = Math.max(clock(), lastTime);
    if (now === lastTime) {
      for (let i = 15; i >= 0; i--) {
        const d = digits[i] ?? 0;
        if (d < 31) {
          digits[i] = d + 1;
          break;
        }
        digits[i] = 0;
      }
    } else {
      const bytes = new Uint8Array(16);
      random(bytes);
      // Keep the top bit clear so that increments within one millisecond do not overflow in practice.
      for (let i = 0; i < 16; i++) digits[i] = (bytes[i] ?? 0) % (i === 0 ? 16 : 32);
      lastTime = now;
    }
    return encodeTime(now) + digits.map((d) => ALPHABET[d]).join("");
  };
}

function fillRandom(bytes: Uint8Array): void {
  crypto.getRandomValues(bytes);
}
