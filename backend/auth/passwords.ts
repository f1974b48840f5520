import { hash, verify, Algorithm } from '@node-rs/argon2';

/**
 * argon2id with the OWASP minimum (19 MiB, 2 passes, 1 lane): ~20 ms on a laptop core, fine for a
 * login endpoint that is throttled anyway.
 */
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

export function hashSecret(plain: string): Promise<string> {
  return hash(plain, OPTIONS);
}

export async function verifySecret(hashed: string, plain: string): Promise<boolean> {
  try {
    return await verify(hashed, plain);
  } catch {
    // A malformed stored hash must read as "wrong password", never as a 500 that reveals the account.
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/** Spend the same time as a real check so an unknown email cannot be told apart by latency. */
export async function verifyAgainstDummy(plain: string): Promise<false> {
  dummyHash ??= hashSecret('ares-dummy-password-for-timing');
  await verifySecret(await dummyHash, plain);
  return false;
}
