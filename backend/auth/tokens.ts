import { createSecretKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { AresError } from '../../core/errors.js';

export const JWT_ISSUER = 'ares-central';
export const JWT_AUDIENCE = 'ares-api';
/** The only algorithm accepted: a token claiming anything else (including "none") is refused. */
const ALGORITHM = 'HS256';

export interface AccessClaims {
  userId: number;
  /** The user's token_version when the token was issued. */
  tokenVersion: number;
}

export interface TokenService {
  issue(userId: number, tokenVersion: number, nowMs: number): Promise<{ token: string; expiresIn: number }>;
  /** Returns the claims or throws ARES_ERR_UNAUTHORIZED. */
  verify(token: string, nowMs: number): Promise<AccessClaims>;
  /**
   * Synchronously, for a token that verified before: its claims, or ARES_ERR_UNAUTHORIZED if it has
   * expired since; undefined for a token not seen (yet), which `verify` must check.
   */
  verifiedBefore(token: string, nowMs: number): AccessClaims | undefined;
}

/**
 * Reads the HS256 key (base64, ≥ 32 bytes) or creates it with mode 0600 on first start. Central
 * instances behind one load balancer share the file (or `central.jwt_key_file`).
 */
export function loadOrCreateJwtKey(file: string): Uint8Array {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length < 32)
    throw new AresError('ARES_ERR_CONFIG', `central.jwt_key_file: ${file} holds fewer than 32 bytes of key`);
  try {
    chmodSync(file, 0o600);
  } catch {
    // read-only mounts (secrets volumes) keep their own permissions
  }
  return new Uint8Array(key);
}

/** Tokens verified once are remembered (until they expire): apps reuse one token for an hour. */
const VERIFIED_CACHE_MAX = 10_000;

export function createTokenService(rawKey: Uint8Array, ttlS: number): TokenService {
  const key = createSecretKey(rawKey);
  // jose verifies HS256 through WebCrypto, asynchronously on the thread pool: per request that costs
  // more than the rest of an authenticated GET. A signature's validity never changes, so a token that
  // verified once is remembered with its expiry; expiry and the user's token_version are still
  // checked on every request.
  const verified = new Map<string, { claims: AccessClaims; expMs: number }>();
  return {
    async issue(userId, tokenVersion, nowMs) {
      const iat = Math.floor(nowMs / 1000);
      const token = await new SignJWT({ tv: tokenVersion })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(String(userId))
        .setIssuer(JWT_ISSUER)
        .setAudience(JWT_AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlS)
        .sign(key);
      return { token, expiresIn: ttlS };
    },
    verifiedBefore(token, nowMs) {
      const hit = verified.get(token);
      if (!hit) return undefined;
      if (hit.expMs > nowMs) return hit.claims;
      verified.delete(token);
      throw new AresError('ARES_ERR_UNAUTHORIZED', 'access token expired');
    },
    async verify(token, nowMs) {
      if (token.length > 4096) throw new AresError('ARES_ERR_UNAUTHORIZED', 'access token too long');
      const hit = this.verifiedBefore(token, nowMs);
      if (hit) return hit;
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: JWT_ISSUER,
          audience: JWT_AUDIENCE,
          currentDate: new Date(nowMs),
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        const userId = Number(payload.sub);
        if (!Number.isSafeInteger(userId) || userId <= 0)
          throw new AresError('ARES_ERR_UNAUTHORIZED', 'invalid token subject');
        const tokenVersion = payload['tv'];
        if (typeof tokenVersion !== 'number' || !Number.isSafeInteger(tokenVersion))
          throw new AresError('ARES_ERR_UNAUTHORIZED', 'invalid token version');
        const claims = { userId, tokenVersion };
        if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value!);
        verified.set(token, { claims, expMs: payload.exp! * 1000 });
        return claims;
      } catch (err) {
        if (err instanceof AresError) throw err;
        const expired = err instanceof joseErrors.JWTExpired;
        throw new AresError('ARES_ERR_UNAUTHORIZED', expired ? 'access token expired' : 'invalid access token');
      }
    },
  };
}
