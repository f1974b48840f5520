import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SimGpioPort } from '../../drivers/gpio/sim.js';

/**
 * A simulated Raspberry Pi 4 for the demo: a host root tree with the files the drivers read (CPU
 * serial, board model, thermal zone, the DHT22's IIO device, /proc statistics), rewritten every few
 * seconds with plausible values, and scripted GPIO inputs (a button press now and then, a PIR that
 * sees someone walk by). The drivers are the real ones; only the world around them is simulated.
 */
export class SimHost {
  #timer: NodeJS.Timeout | undefined;
  #tick = 0;
  #temp = 48;
  #room = 21.5;

  constructor(
    readonly root: string,
    readonly cpuSerial: string,
  ) {}

  start(gpio: SimGpioPort, pins: { button?: number; pir?: number }): void {
    this.#write(
      '/proc/cpuinfo',
      `processor\t: 0\nHardware\t: BCM2835\nSerial\t\t: ${this.cpuSerial}\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n`,
    );
    this.#write('/proc/device-tree/model', 'Raspberry Pi 4 Model B Rev 1.4\0');
    this.#write('/sys/bus/iio/devices/iio:device0/name', 'dht11\n');
    // The help button is active-low: released means a high level until someone presses it.
    if (pins.button !== undefined) gpio.setInput(pins.button, 1);
    this.#update();
    this.#timer = setInterval(() => {
      this.#tick++;
      this.#update();
      if (pins.pir !== undefined && gpio.isOpen(pins.pir)) gpio.setInput(pins.pir, this.#tick % 12 < 3 ? 1 : 0);
      if (pins.button !== undefined && gpio.isOpen(pins.button) && this.#tick % 20 === 0) {
        gpio.setInput(pins.button, 0); // pressed (active low)
        setTimeout(() => gpio.isOpen(pins.button!) && gpio.setInput(pins.button!, 1), 300).unref();
      }
    }, 2000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  #update(): void {
    this.#temp = clamp(this.#temp + (Math.random() - 0.5), 40, 70);
    this.#room = clamp(this.#room + (Math.random() - 0.5) * 0.2, 17, 27);
    const busy = 2000 + this.#tick * 37;
    this.#write('/sys/class/thermal/thermal_zone0/temp', `${Math.round(this.#temp * 1000)}\n`);
    this.#write('/sys/bus/iio/devices/iio:device0/in_temp_input', `${Math.round(this.#room * 1000)}\n`);
    this.#write(
      '/sys/bus/iio/devices/iio:device0/in_humidityrelative_input',
      `${Math.round((45 + Math.sin(this.#tick / 10) * 5) * 1000)}\n`,
    );
    this.#write(
      '/proc/stat',
      `cpu  ${busy} 0 ${busy} ${busy * 8} 0 0 0 0 0 0\ncpu0 ${busy} 0 ${busy} ${busy * 8} 0 0 0 0 0 0\n`,
    );
    this.#write(
      '/proc/meminfo',
      'MemTotal:        3884376 kB\nMemFree:         2100000 kB\nMemAvailable:    3000000 kB\n',
    );
    this.#write('/proc/uptime', `${(1000 + this.#tick * 2).toFixed(2)} 3000.00\n`);
  }

  #write(path: string, content: string): void {
    const file = join(this.root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
