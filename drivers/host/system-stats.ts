import { statfs } from 'node:fs/promises';
import type { HostRoot } from '../../core/host-root.js';
import { SensorError } from './sensor-error.js';

export interface SystemSample {
  /** % of all CPUs busy since the previous sample (since boot on the first). */
  cpu_average: number;
  /** % busy of the busiest single core over the same span. */
  cpu_peak: number;
  memory_used_pct: number;
  /** Absent when the root filesystem cannot be stat'ed (an odd container, a fixture on a weird fs). */
  disk_used_pct?: number;
  uptime_s: number;
}

/** Jiffies of one /proc/stat cpu line: busy and total. */
export interface CpuTimes {
  busy: number;
  total: number;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * CPU, memory, disk and uptime of the host under `host`. CPU shares need two readings of the
 * cumulative /proc/stat counters, so the sampler keeps the previous one; one sampler per consumer.
 */
export class SystemSampler {
  #previous: Map<string, CpuTimes> | undefined;

  constructor(private readonly host: HostRoot) {}

  async sample(): Promise<SystemSample> {
    const cpus = parseStat(await this.#required('/proc/stat'));
    const previous = this.#previous;
    this.#previous = cpus;
    const share = (name: string): number => {
      const now = cpus.get(name)!;
      const before = previous?.get(name);
      // No time passed, a core came online, or counters went backwards (hotplug): use boot totals.
      const usable = before !== undefined && now.total > before.total && now.busy >= before.busy;
      const busy = usable ? now.busy - before.busy : now.busy;
      const total = usable ? now.total - before.total : now.total;
      return total > 0 ? round1((busy / total) * 100) : 0;
    };
    const cores = [...cpus.keys()].filter((k) => k !== 'cpu');
    const sample: SystemSample = {
      cpu_average: share('cpu'),
      cpu_peak: Math.max(0, ...cores.map(share)),
      memory_used_pct: parseMeminfo(await this.#required('/proc/meminfo')),
      uptime_s: parseUptime(await this.#required('/proc/uptime')),
    };
    const disk = await this.#diskUsedPct();
    if (disk !== undefined) sample.disk_used_pct = disk;
    return sample;
  }

  async #required(hostPath: string): Promise<string> {
    let text: string | undefined;
    try {
      text = await this.host.readText(hostPath);
    } catch (err) {
      throw new SensorError(`cannot read ${this.host.path(hostPath)}: ${(err as Error).message}`, {
        transient: true,
        cause: err,
      });
    }
    if (text === undefined) throw new SensorError(`${this.host.path(hostPath)} does not exist`);
    return text;
  }

  /** Used share as `df` shows it: blocks reserved for root count as neither used nor available. */
  async #diskUsedPct(): Promise<number | undefined> {
    try {
      const s = await statfs(this.host.path('/'));
      const used = s.blocks - s.bfree;
      return used + s.bavail > 0 ? round1((used / (used + s.bavail)) * 100) : undefined;
    } catch {
      return undefined; // disk is the one optional figure; the rest of the sample is still good
    }
  }
}

/**
 * `cpu`/`cpuN` lines: user nice system idle iowait irq softirq steal [guest guest_nice]. Guest time
 * is already inside user/nice, so only the first eight count; iowait is idle time (as top shows it).
 */
export function parseStat(text: string): Map<string, CpuTimes> {
  const cpus = new Map<string, CpuTimes>();
  for (const line of text.split('\n')) {
    const m = /^(cpu\d*)\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).slice(0, 8).map(Number);
    if (f.length < 4 || f.some((n) => !Number.isFinite(n))) continue;
    const total = f.reduce((a, b) => a + b, 0);
    cpus.set(m[1]!, { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total });
  }
  if (!cpus.has('cpu')) throw new SensorError('/proc/stat has no aggregate cpu line');
  return cpus;
}

/** % of memory in use: MemAvailable (not MemFree) is what the kernel could hand out without swapping. */
export function parseMeminfo(text: string): number {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (!total || available === undefined) throw new SensorError('/proc/meminfo lacks MemTotal or MemAvailable');
  return round1(((total - available) / total) * 100);
}

/** Whole seconds since boot (first field of /proc/uptime). */
export function parseUptime(text: string): number {
  const seconds = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isFinite(seconds)) throw new SensorError(`/proc/uptime: unexpected content ${JSON.stringify(text)}`);
  return Math.floor(seconds);
}
