import { syncEvent } from '../../sync/contract.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Command } from '../../drivers/types.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { ComponentOutput, Pipeline } from '../components/pipeline.js';

/** What an imu component's config says about raising its alerts on the hub. */
export interface AlertSettings {
  /** A led, buzzer or relay that signals the alert in the home. */
  alarmComponentId: number | undefined;
  /** A button whose press within the cancel window means "I'm OK". */
  cancelButtonId: number | undefined;
  cancelWindowS: number;
  alarmS: number;
}

/** The alert settings in an imu component's config, or what is wrong with them. */
export function alertSettings(c: ComponentSpec): AlertSettings | string {
  const cfg = c.config ?? {};
  const id = (k: string): number | undefined | string => {
    const v = cfg[k];
    if (v === undefined || v === null) return undefined;
    return Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : `config.${k}: expected a component id`;
  };
  const secs = (k: string, def: number): number | string => {
    const v = cfg[k] ?? def;
    return typeof v === 'number' && v >= 0 && v <= 3600 ? v : `config.${k}: expected seconds, 0–3600`;
  };
  const alarm = id('alarm_component_id');
  const button = id('cancel_button_component_id');
  const window = secs('cancel_window_s', 60);
  const alarmS = secs('alarm_s', 60);
  for (const v of [alarm, button, window, alarmS]) if (typeof v === 'string') return v;
  return {
    alarmComponentId: alarm as number | undefined,
    cancelButtonId: button as number | undefined,
    cancelWindowS: window as number,
    alarmS: alarmS as number,
  };
}

interface OpenAlert {
  id: string;
  node_id: string;
  ts: string;
  prob: number | null;
  status: 'open' | 'cancelled';
  componentId: number;
  componentType: string;
  settings: AlertSettings;
  raisedAt: number;
  cancelBy?: 'button' | 'app';
  /** Suppressed duplicates of this alert, and how many central has been told of. */
  duplicates: number;
  reported: number;
  reportTimer?: NodeJS.Timeout | undefined;
}

/** Duplicate counts are coalesced: one record per alert per this long at most. */
const DUPLICATES_REPORT_MS = 10_000;

/** Alerts kept in the retained LAN message (newest first). */
const KEPT = 20;

/**
 * The hub's side of an alert once it is stored: the alarm component signals at once, the retained
 * `alerts/{device_uuid}` tells the LAN, and within the cancel window a press of the cancel button
 * ("I'm OK") cancels it — recorded as a `fall_cancelled` alert-lane record, so central hears and the
 * alert itself is kept.
 */
export class AlertDesk {
  readonly #alerts: OpenAlert[] = [];

  constructor(
    private readonly deps: {
      pipeline: Pipeline;
      clock: Clock;
      log: Logger;
      publish: (topic: string, payload: string, retain: boolean) => Promise<void>;
      deviceUuid: string;
      command?: (componentId: number, cmd: Command) => Promise<unknown>;
    },
  ) {}

  /** Listens for cancel-button presses on the pipeline. */
  start(): void {
    this.deps.pipeline.on('alert-desk', (out) => this.#onOutput(out));
  }

  /** Stops listening; duplicate counts not yet reported are reported now. */
  async stop(): Promise<void> {
    this.deps.pipeline.off('alert-desk');
    await this.flushDuplicates();
  }

  /**
   * Decisions the cooldown suppressed as duplicates of `alertId`: counted on the alert (the LAN
   * message shows `duplicates`) and reported to central as a `fall_duplicates` record carrying the
   * running total, coalesced to one record per DUPLICATES_REPORT_MS per alert.
   */
  duplicates(alertId: string, count: number): void {
    const a = this.#alerts.find((x) => x.id === alertId);
    if (!a) return;
    a.duplicates += count;
    if (a.reportTimer) return;
    a.reportTimer = setTimeout(() => {
      a.reportTimer = undefined;
      void this.#reportDuplicates(a);
    }, DUPLICATES_REPORT_MS);
    a.reportTimer.unref();
  }

  /** Reports every pending duplicate count now (shutdown, tests). */
  async flushDuplicates(): Promise<void> {
    const pending = this.#alerts.filter((a) => a.reportTimer);
    for (const a of pending) {
      clearTimeout(a.reportTimer);
      a.reportTimer = undefined;
    }
    await Promise.all(pending.map((a) => this.#reportDuplicates(a)));
  }

  async #reportDuplicates(a: OpenAlert): Promise<void> {
    if (a.duplicates === a.reported) return;
    a.reported = a.duplicates;
    await this.deps.pipeline
      .emitStored({
        componentId: a.componentId,
        componentType: a.componentType,
        ...syncEvent('fall_duplicates', { alert_id: a.id, node_id: a.node_id, duplicates: a.duplicates }),
        ts: this.deps.clock.now(),
      })
      .catch((err: unknown) => this.deps.log.error({ err, alert_id: a.id }, 'duplicate count not stored'));
    await this.#publish();
  }

  async raise(a: {
    id: string;
    nodeId: string;
    prob: number | null;
    componentId: number;
    componentType: string;
    settings: AlertSettings;
  }) {
    const now = this.deps.clock.now();
    this.#alerts.unshift({
      id: a.id,
      node_id: a.nodeId,
      ts: new Date(now).toISOString(),
      prob: a.prob,
      status: 'open',
      componentId: a.componentId,
      componentType: a.componentType,
      settings: a.settings,
      raisedAt: now,
      duplicates: 0,
      reported: 0,
    });
    this.#alerts.splice(KEPT);
    const alarm = a.settings.alarmComponentId;
    if (alarm !== undefined && this.deps.command && a.settings.alarmS > 0)
      await this.deps
        .command(alarm, { action: 'on', durationS: a.settings.alarmS })
        .catch((err: unknown) =>
          this.deps.log.error({ err, component_id: alarm }, 'fall alarm could not be switched on'),
        );
    await this.#publish();
  }

  /**
   * Cancels an open alert; resolves whether it did. The hub's button counts only inside the cancel
   * window (a press later is someone else's business); a cancel from the app (a caregiver, through
   * central) counts at any time, and stops the alarm.
   */
  async cancel(alertId: string, how: { by: 'button' } | { by: 'app'; who: string }): Promise<boolean> {
    const a = this.#alerts.find((x) => x.id === alertId);
    const now = this.deps.clock.now();
    if (!a || a.status !== 'open') return false;
    if (how.by === 'button' && now - a.raisedAt > a.settings.cancelWindowS * 1000) return false;
    a.status = 'cancelled';
    a.cancelBy = how.by;
    this.deps.log.warn({ alert_id: alertId, by: how.by }, 'fall alert cancelled ("I\'m OK")');
    await this.deps.pipeline.emitStored({
      componentId: a.componentId,
      componentType: a.componentType,
      ...syncEvent('fall_cancelled', {
        alert_id: alertId,
        node_id: a.node_id,
        by: how.by,
        ...(how.by === 'app' ? { who: how.who } : {}),
        after_s: Math.round((now - a.raisedAt) / 100) / 10,
      }),
      ts: now,
    });
    const alarm = a.settings.alarmComponentId;
    if (alarm !== undefined && this.deps.command)
      await this.deps
        .command(alarm, { action: 'off' })
        .catch((err: unknown) =>
          this.deps.log.error({ err, component_id: alarm }, 'fall alarm could not be switched off'),
        );
    await this.#publish();
    return true;
  }

  open(): readonly { id: string; node_id: string; status: string }[] {
    return this.#alerts;
  }

  #onOutput(out: ComponentOutput): void {
    if (out.kind !== 'state' || out.state !== 'PRESSED') return;
    // The newest open alert this button may cancel.
    const a = this.#alerts.find((x) => x.status === 'open' && x.settings.cancelButtonId === out.componentId);
    if (a)
      void this.cancel(a.id, { by: 'button' }).catch((err: unknown) =>
        this.deps.log.error({ err, alert_id: a.id }, 'fall alert cancel failed'),
      );
  }

  #publish(): Promise<void> {
    const alerts = this.#alerts.map(({ id, node_id, ts, prob, status, duplicates }) => ({
      id,
      node_id,
      ts,
      prob,
      status,
      duplicates,
    }));
    return this.deps
      .publish(`alerts/${this.deps.deviceUuid}`, JSON.stringify({ alerts }), true)
      .catch((err: unknown) => this.deps.log.error({ err }, 'retained alert publish failed'));
  }
}
