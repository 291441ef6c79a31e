/** A deadline for a sub-request: every call to another service gets one, so nothing waits forever. */

export class Timeout extends Error {
  override name = "Timeout";
}

/** Rejects with a Timeout when `promise` has not settled within `ms`; `what` names the call in the message. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = "the call"): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Timeout(`${what} did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
