import { randomBytes } from 'node:crypto';

/**
 * The enrollment record (§4.4) and its claim code, shared by the hub (which prints them) and central
 * (which stores only a hash of the code). Claim codes are Crockford base32 so a person can read them
 * off a label: 10 symbols = 50 random bits, shown as XXXXX-XXXXX.
 */
export interface EnrollmentRecord {
  cpu_serial: string;
  device_uuid: string;
  hardware_version: string;
  hardware_variant: string;
  public_key: string;
  claim_code: string;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function generateClaimCode(): string {
  const bytes = randomBytes(10);
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[bytes[i]! & 31];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

/** Upper-case, dashes and spaces dropped, and the look-alikes a person may type (O→0, I/L→1). */
export function normalizeClaimCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** Claim codes central accepts: at least 8 symbols (40 bits) of Crockford base32 once normalized. */
export const CLAIM_CODE_PATTERN = '^[0-9A-Za-z][0-9A-Za-z -]{6,62}[0-9A-Za-z]$';
export function isValidClaimCode(code: string): boolean {
  const n = normalizeClaimCode(code);
  return n.length >= 8 && n.length <= 64 && [...n].every((c) => ALPHABET.includes(c));
}
