import type { Logger } from '../../core/logger.js';
import { Backoff } from './backoff.js';
import { RawJson, type CentralClient, type CentralResponse } from './client.js';
import type { Outbox } from '../../sync/outbox.js';
import { LANES, type Lane, type SyncAnswer } from '../../sync/records.js';

/** Per lane: most records and bytes (before gzip) in one batch. Central takes up to 5,000. */
const BATCH: Record<Lane, { count: number; bytes: number }> = {
  alert: { count: 100, bytes: 64 * 1024 },
  event: { count: 1000, bytes: 256 * 1024 },
  telemetry: { count: 5000, bytes: 2 * 1024 * 1024 },
};
/**
 * Longest back-off per lane while central is unreachable. An alert lane that is waiting retries at
 * least this often, so an alert raised during an outage reaches central within a second of its
 * return; bulk lanes back off further and spare a central that is coming back under load.
 */
const MAX_BACKOFF_MS: Record<Lane, number> = { alert: 800, event: 10_000, telemetry: 60_000 };
/** Telemetry waits this long for a batch to fill before sending a short one. */
const TELEMETRY_LINGER_MS = 250;

export interface UploaderDeps {
  outbox: Outbox;
  /** The client and secret to send with, or undefined while the hub has no credentials. */
  session: () => { client: CentralClient; secret: string; deviceUuid: string } | undefined;
  monoMs: () => number;
  now: () => number;
  log: Logger;
  wait: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Central answered 401: the credentials were revoked; de-provisioning takes over. */
  onRevoked: () => void;
}

export interface UploaderStatus {
  lastSuccessAt: number | null;
  failures: number;
}

/**
 * Drains the outbox to central (`POST /api/sync/batches`, §4.5): one loop per lane, so a backlog
 * of telemetry never holds an alert back — alerts go the moment they are committed. Batches are
 * gzipped and signed; acknowledged ranges are deleted, refused records dead-lettered (a poison record
 * never blocks its lane); network trouble and 5xx back off exponentially with jitter; 429 waits as
 * long as Retry-After says; 401 stops and hands over to de-provisioning.
 */
export class Uploader {
  #abort: AbortController | undefined;
  #loops: Promise<void>[] = [];
  readonly #wakers = new Map<Lane, AbortController>();
  #status: UploaderStatus = { lastSuccessAt: null, failures: 0 };

  constructor(private readonly deps: UploaderDeps) {}

  start(): void {
    this.#abort = new AbortController();
    for (const lane of LANES) this.#wakers.set(lane, new AbortController());
    this.#loops = LANES.map((lane) =>
      this.#run(lane, this.#abort!.signal).catch((err: unknown) =>
        this.deps.log.error({ err, lane }, 'uploader stopped by an unexpected error'),
      ),
    );
  }

  /** New records in these lanes: their loops stop waiting. */
  wake(lanes: Iterable<Lane>): void {
    for (const lane of lanes) {
      this.#wakers.get(lane)?.abort();
      this.#wakers.set(lane, new AbortController());
    }
  }

  status(): UploaderStatus {
    return { ...this.#status };
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await Promise.all(this.#loops);
  }

  async #run(lane: Lane, signal: AbortSignal): Promise<void> {
    const { outbox, log } = this.deps;
    const backoff = new Backoff(Math.min(1000, MAX_BACKOFF_MS[lane] / 2), MAX_BACKOFF_MS[lane]);
    // Waits end early when the lane gets records (wake) or the uploader stops.
    const idle = (ms: number) => this.deps.wait(ms, AbortSignal.any([signal, this.#wakers.get(lane)!.signal]));
    const limits = { ...BATCH[lane] };
    let lingered = false;
    while (!signal.aborted) {
      const session = this.deps.session();
      if (!session) {
        await idle(5000);
        continue;
      }
      const { bootId, count, first, json } = outbox.peekJson(lane, limits.count, limits.bytes);
      if (count === 0) {
        await idle(30_000);
        continue;
      }
      if (lane === 'telemetry' && !lingered && count < limits.count) {
        lingered = true;
        await this.deps.wait(TELEMETRY_LINGER_MS, signal);
        continue;
      }
      lingered = false;
      // §4.5's batch, with the stored records spliced in as they are.
      const batch = new RawJson(
        `{"device_uuid":${JSON.stringify(session.deviceUuid)},"boot_id":${JSON.stringify(bootId)},` +
          `"sent_mono_ms":${Math.floor(this.deps.monoMs())},"records":[${json}]}`,
      );
      let res: CentralResponse;
      try {
        res = await session.client.send(
          'POST',
          '/api/sync/batches',
          { secret: session.secret },
          batch,
          {},
          { gzip: true },
        );
      } catch (err) {
        if (signal.aborted) return;
        this.#status.failures++;
        log.warn({ lane, err: (err as Error).message }, 'sync upload failed: backing off');
        await this.deps.wait(backoff.next(), signal);
        continue;
      }
      if (res.status === 200) {
        const answer = res.body as SyncAnswer;
        outbox.ack(lane, Array.isArray(answer.acked) ? answer.acked : []);
        if (Array.isArray(answer.rejected) && answer.rejected.length > 0) {
          log.warn({ lane, rejected: answer.rejected.slice(0, 5) }, 'central refused records: dead-lettered');
          outbox.deadLetter(lane, answer.rejected);
        }
        this.#status.lastSuccessAt = this.deps.now();
        backoff.reset();
        limits.count = BATCH[lane].count;
        continue;
      }
      this.#status.failures++;
      if (res.status === 401) {
        log.warn('central refused the hub’s signature: credentials revoked, handing over to provisioning');
        this.deps.onRevoked();
        await this.deps.wait(5000, signal);
        continue;
      }
      if (res.status === 429) {
        const retryS = Number(res.headers['retry-after']);
        await this.deps.wait(Number.isFinite(retryS) && retryS > 0 ? retryS * 1000 : backoff.next(), signal);
        continue;
      }
      if (res.status === 413 || res.status === 400) {
        // Too big or unreadable as a whole: halve the batch; a single record that still fails is
        // dead-lettered rather than left to block the lane forever.
        if (count === 1) {
          outbox.deadLetter(lane, [{ seq: first, code: `http_${res.status}`, reason: 'central refused it alone' }]);
        } else limits.count = Math.max(1, Math.floor(count / 2));
        continue;
      }
      log.warn({ lane, status: res.status }, 'sync upload refused: backing off');
      await this.deps.wait(backoff.next(), signal);
    }
  }
}
