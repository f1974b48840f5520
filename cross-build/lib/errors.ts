/**
 * A build failure with the message the user sees. `usage` failures (a bad flag) exit 2 like the
 * `ares` CLI does; everything else exits 1.
 */
export class BuildError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}
