import { createRequire } from 'node:module';
import { AresError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * The host side of sd_notify(3): one datagram to a notify socket. Node has no Unix datagram sockets, so
 * the real one is a tiny N-API addon (native/sd-notify); the simulated one keeps what it receives.
 * `send` throws ARES_ERR_CONFIG for a path no socket can have and ARES_ERR_UNAVAILABLE (transient) when the
 * kernel refuses the datagram (nobody listens, the queue is full).
 */
export interface NotifySocket {
  send(socketPath: string, message: string): void;
}

/** The real socket: the ares-sd-notify addon, required on first call so that hosts without systemd never load it. */
export function addonNotifySocket(): NotifySocket {
  const addon = createRequire(import.meta.url)('ares-sd-notify') as { notify?: unknown };
  const notify = addon.notify;
  if (typeof notify !== 'function') throw new AresError('ARES_ERR_UNAVAILABLE', 'ares-sd-notify exports no notify()');
  return {
    send(socketPath, message) {
      try {
        notify(socketPath, message);
      } catch (err) {
        // The addon throws TypeError/RangeError for arguments, a plain Error with errno for the system call.
        if (err instanceof TypeError || err instanceof RangeError)
          throw new AresError('ARES_ERR_CONFIG', `NOTIFY_SOCKET: ${err.message}`, { cause: err });
        throw new AresError('ARES_ERR_UNAVAILABLE', (err as Error).message, { transient: true, cause: err });
      }
    },
  };
}

/** sockaddr_un.sun_path holds 108 bytes: a filesystem path needs its NUL as well; '@' stands for a leading NUL. */
const SUN_PATH_BYTES = 108;

/** The addon's path rules, for the simulated socket (the contract suite holds both to them). */
function checkSocketPath(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath);
  const abstract = socketPath.startsWith('@');
  if (!(abstract || socketPath.startsWith('/')) || socketPath.includes('\0'))
    throw new AresError('ARES_ERR_CONFIG', "NOTIFY_SOCKET: socketPath must be an absolute path or start with '@'");
  if (abstract ? bytes > SUN_PATH_BYTES : bytes >= SUN_PATH_BYTES)
    throw new AresError('ARES_ERR_CONFIG', 'NOTIFY_SOCKET: socketPath is too long for sockaddr_un');
}

/** The simulated socket: paths the test binds receive every datagram sent there; sending elsewhere fails. */
export class SimNotifySocket implements NotifySocket {
  readonly #inboxes = new Map<string, string[]>();

  /** Starts listening at `socketPath`; the returned array fills with the messages received. */
  bind(socketPath: string): string[] {
    checkSocketPath(socketPath);
    const inbox: string[] = [];
    this.#inboxes.set(socketPath, inbox);
    return inbox;
  }

  send(socketPath: string, message: string): void {
    checkSocketPath(socketPath);
    const inbox = this.#inboxes.get(socketPath);
    if (!inbox)
      throw new AresError('ARES_ERR_UNAVAILABLE', `sendto ${socketPath}: Connection refused`, { transient: true });
    inbox.push(message);
  }
}

export interface SdNotifierDeps {
  /** The environment systemd started us with (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID). */
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Default: the addon, loaded only when NOTIFY_SOCKET is set. */
  socket?: () => NotifySocket;
  /** Default process.pid: WATCHDOG_PID names the process the watchdog is meant for. */
  pid?: number;
}

/** STATUS= is one line in `systemctl status`: no control characters, bounded. */
function statusLine(text: string): string {
  return [...text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim()].slice(0, 500).join('');
}

/**
 * The systemd notification protocol for our daemons (Type=notify, WatchdogSec=). Without NOTIFY_SOCKET
 * (a development machine, tests) every call is a no-op. Failing to notify is logged once per kind and
 * never thrown: a daemon must not die because systemd cannot hear it.
 */
export class SdNotifier {
  /** Half of WATCHDOG_USEC, in ms, when systemd watches this very process; else undefined. */
  readonly watchdogPingMs: number | undefined;
  readonly #socketPath: string | undefined;
  readonly #deps: SdNotifierDeps;
  #socket: NotifySocket | null | undefined; // undefined: not loaded yet; null: could not load
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #warned = new Set<string>();
  #lastStatus: string | undefined;

  constructor(deps: SdNotifierDeps) {
    this.#deps = deps;
    const path = deps.env['NOTIFY_SOCKET'];
    this.#socketPath = path === undefined || path === '' ? undefined : path;
    this.watchdogPingMs = this.#socketPath === undefined ? undefined : this.#watchdogInterval();
  }

  get enabled(): boolean {
    return this.#socketPath !== undefined;
  }

  /** Start-up is complete (systemd's start job finishes here, and its watchdog starts counting). */
  ready(status: string): void {
    this.#lastStatus = statusLine(status);
    this.#send(`READY=1\nSTATUS=${this.#lastStatus}`);
    if (this.enabled) this.#deps.log.info({ watchdog_ms: this.watchdogPingMs }, 'systemd notified: ready');
  }

  /** Sends STATUS= when the text differs from the last one sent. */
  status(text: string): void {
    const line = statusLine(text);
    if (line === this.#lastStatus) return;
    this.#lastStatus = line;
    this.#send(`STATUS=${line}`);
  }

  /** Shutdown has begun: systemd stops expecting watchdog pings, so they end here too. */
  stopping(status?: string): void {
    this.stop();
    this.#send(status === undefined ? 'STOPPING=1' : `STOPPING=1\nSTATUS=${statusLine(status)}`);
  }

  watchdog(): void {
    this.#send('WATCHDOG=1');
  }

  /**
   * Pings the watchdog every watchdogPingMs and polls `status` every `statusEveryMs`, sending it on change. Plain
   * timers on the event loop, on purpose: a blocked loop stops the pings and systemd restarts the service.
   * unref'd: they never keep the process alive.
   */
  start(status?: () => string, statusEveryMs = 5000): void {
    if (!this.enabled) return;
    this.stop();
    if (this.watchdogPingMs !== undefined) this.#every(this.watchdogPingMs, () => this.watchdog());
    if (status) this.#every(statusEveryMs, () => this.status(status()));
  }

  stop(): void {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
  }

  #every(ms: number, fn: () => void): void {
    const timer = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.#warnOnce('tick', err, 'systemd notification: status poll failed');
      }
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /** sd_watchdog_enabled(3): WATCHDOG_USEC > 0, and WATCHDOG_PID (when set) is this process. */
  #watchdogInterval(): number | undefined {
    const { env } = this.#deps;
    const usec = env['WATCHDOG_USEC'];
    if (usec === undefined || usec === '') return undefined;
    const pid = env['WATCHDOG_PID'];
    if (pid !== undefined && pid !== '' && Number(pid) !== (this.#deps.pid ?? process.pid)) return undefined;
    const value = Number(usec);
    if (!Number.isSafeInteger(value) || value <= 0) {
      const err = new AresError('ARES_ERR_CONFIG', `WATCHDOG_USEC: not a positive integer: ${JSON.stringify(usec)}`);
      this.#warnOnce('watchdog', err, 'systemd watchdog disabled');
      return undefined;
    }
    return Math.max(1, Math.floor(value / 2000));
  }

  #send(message: string): void {
    if (this.#socketPath === undefined) return;
    if (this.#socket === undefined) {
      try {
        this.#socket = (this.#deps.socket ?? addonNotifySocket)();
      } catch (err) {
        this.#socket = null;
        this.#warnOnce('load', err, 'systemd notifications disabled: the sd-notify addon did not load');
      }
    }
    if (!this.#socket) return;
    try {
      this.#socket.send(this.#socketPath, message);
    } catch (err) {
      this.#warnOnce('send', err, `systemd notification failed (${message.split('\n', 1)[0]})`);
    }
  }

  #warnOnce(kind: string, err: unknown, msg: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.#deps.log.warn({ err, notify_socket: this.#socketPath }, msg);
  }
}
