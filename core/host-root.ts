import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every host path (/proc, /sys, /etc, …) is read under `hub.host_root`, so tests and the demo run on
 * fixture trees and nothing here can reach the real host by accident.
 */
export class HostRoot {
  constructor(readonly root: string) {}

  path(hostPath: string): string {
    return join(this.root, hostPath);
  }

  /** The file's text, or undefined when it does not exist (other errors propagate). */
  async readText(hostPath: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(hostPath), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
        return undefined;
      throw err;
    }
  }

  existsSync(hostPath: string): boolean {
    return existsSync(this.path(hostPath));
  }
}
