import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export const CA_DIR_NAME = 'ca';
export const CA_KEY_FILE = 'ca.key';
export const CA_CERT_FILE = 'ca.crt';

export interface CaFiles {
  keyPem: string;
  certPem: string;
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}

/**
 * Returns null only when neither file exists. A half-present pair is an error rather than a cue to
 * regenerate: a fresh CA would silently orphan every device certificate issued by the old one.
 */
export async function readCaFiles(dataDir: string): Promise<CaFiles | null> {
  const dir = path.join(dataDir, CA_DIR_NAME);
  const keyPath = path.join(dir, CA_KEY_FILE);
  const certPath = path.join(dir, CA_CERT_FILE);
  const [keyPem, certPem] = await Promise.all([readIfExists(keyPath), readIfExists(certPath)]);
  if (keyPem !== null && certPem !== null) return { keyPem, certPem };
  if (keyPem === null && certPem === null) return null;
  const missing = keyPem === null ? keyPath : certPath;
  const present = keyPem === null ? certPath : keyPath;
  throw new Error(
    `CA is incomplete: ${missing} is missing but ${present} exists. Refusing to create a new CA because ` +
      `devices trusting the old one would be locked out; restore the missing file from backup ` +
      `(or, on a fresh install with no enrolled devices, delete ${dir} to start over).`,
  );
}

async function writeFileDurably(file: string, contents: string, mode: number): Promise<void> {
  const fh = await fsp.open(file, 'wx', mode);
  try {
    await fh.writeFile(contents, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Both files are staged in a private sibling directory and the directory is renamed into place, so a
 * crash can never leave only one of the pair behind. rename(2) refuses to replace a non-empty
 * directory, so an existing key is never overwritten.
 *
 * Returns false if another creator got there first; the caller should then load what is on disk.
 */
export async function writeCaFilesAtomically(dataDir: string, files: CaFiles): Promise<boolean> {
  await fsp.mkdir(dataDir, { recursive: true });
  const finalDir = path.join(dataDir, CA_DIR_NAME);
  const stagingDir = path.join(dataDir, `.${CA_DIR_NAME}-staging-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(stagingDir, { mode: 0o700 });
  try {
    // mkdir's mode is filtered by umask; the key directory must be private regardless.
    await fsp.chmod(stagingDir, 0o700);
    await writeFileDurably(path.join(stagingDir, CA_KEY_FILE), files.keyPem, 0o600);
    await writeFileDurably(path.join(stagingDir, CA_CERT_FILE), files.certPem, 0o644);
    await syncDir(stagingDir);
    try {
      await fsp.rename(stagingDir, finalDir);
    } catch (err) {
      if (isErrno(err, 'ENOTEMPTY', 'EEXIST')) return false;
      throw err;
    }
    await syncDir(dataDir);
    return true;
  } finally {
    await fsp.rm(stagingDir, { recursive: true, force: true });
  }
}
