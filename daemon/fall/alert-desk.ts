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
  settings: AlertSettings;
  raisedAt: number;
  cancelBy?: 'button';
}

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

  stop(): void {
    this.deps.pipeline.off('alert-desk');
  }

  async raise(a: { id: string; nodeId: string; prob: number | null; componentId: number; settings: AlertSettings }) {
    const now = this.deps.clock.now();
    this.#alerts.unshift({
      id: a.id,
      node_id: a.nodeId,
      ts: new Date(now).toISOString(),
      prob: a.prob,
      status: 'open',
      componentId: a.componentId,
      settings: a.settings,
      raisedAt: now,
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

  /** Cancels the alert if it is open and inside its cancel window; resolves whether it did. */
  async cancel(alertId: string, by: 'button'): Promise<boolean> {
    const a = this.#alerts.find((x) => x.id === alertId);
    const now = this.deps.clock.now();
    if (!a || a.status !== 'open' || now - a.raisedAt > a.settings.cancelWindowS * 1000) return false;
    a.status = 'cancelled';
    a.cancelBy = by;
    this.deps.log.warn({ alert_id: alertId, by }, 'fall alert cancelled ("I\'m OK")');
    await this.deps.pipeline.emitStored({
      componentId: a.componentId,
      componentType: 'imu',
      kind: 'event',
      name: 'fall_cancelled',
      data: { alert_id: alertId, node_id: a.node_id, by, after_s: Math.round((now - a.raisedAt) / 100) / 10 },
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
      void this.cancel(a.id, 'button').catch((err: unknown) =>
        this.deps.log.error({ err, alert_id: a.id }, 'fall alert cancel failed'),
      );
  }

  #publish(): Promise<void> {
    const alerts = this.#alerts.map(({ id, node_id, ts, prob, status }) => ({ id, node_id, ts, prob, status }));
    return this.deps
      .publish(`alerts/${this.deps.deviceUuid}`, JSON.stringify({ alerts }), true)
      .catch((err: unknown) => this.deps.log.error({ err }, 'retained alert publish failed'));
  }
}
