/**
 * Signing keys for the JWT tests, made once per run when the test config loads (in Node): the public halves are
 * the Worker's inline JWKS (JWT_JWKS), the private halves reach the tests as TEST_JWT_PRIVATE_KEYS.
 */
import { exportJWK, generateKeyPair, type JWK } from "jose";

export const TEST_JWT = { issuer: "https://issuer.test", audience: "tessera-test" };

export async function testJwtKeys(): Promise<{ jwks: string; privateKeys: string }> {
  const publics: JWK[] = [];
  const privates: Record<string, JWK> = {};
  for (const [alg, options] of [
    ["RS256", { modulusLength: 2048 }],
    ["ES256", {}],
    ["EdDSA", { crv: "Ed25519" }],
  ] as const) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { ...options, extractable: true });
    const kid = `test-${alg.toLowerCase()}`;
    publics.push({ ...(await exportJWK(publicKey)), kid, alg, use: "sig" });
    privates[alg] = { ...(await exportJWK(privateKey)), kid, alg };
  }
  return { jwks: JSON.stringify({ keys: publics }), privateKeys: JSON.stringify(privates) };
}
