/**
 * Sends `message` as one datagram to the AF_UNIX socket at `socketPath` ('@' first = abstract namespace).
 * Throws a TypeError/RangeError for a bad path, an Error with `errno` when the socket call fails.
 */
export declare function notify(socketPath: string, message: string): void;
