/** A deadline for a sub-request: every call to another service gets one, so nothing waits forever. */

export class Timeout extends Error {
  override name = "Timeout";
}

/** Rejects with a Timeout when `promise` has not settled within `ms`; `what` names the call in the message. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = "the call"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() =>
    clearTimeout(timer as Parameters<typeof clearTimeout>[0]),
  );
}
