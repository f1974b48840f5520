/**
 * Follows MQTT framing (fixed header + remaining-length varint) over a connection's chunks without
 * decoding packets. aedes' parser would accept packets up to 256 MB; the broker feeds this every
 * chunk aedes reads and ends the connection when a packet announces more than `maxBytes`, or a
 * malformed length, before its body is buffered.
 */
export class FrameScanner {
  #need = 0; // body bytes still to skip of the current packet
  #header: number[] = []; // bytes of a fixed header being read

  constructor(private readonly maxBytes: number) {}

  /** Returns why the connection must end, or undefined while the stream is well-formed. */
  feed(chunk: Buffer): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.#need > 0) {
        const take = Math.min(this.#need, chunk.length - i);
        this.#need -= take;
        i += take;
        continue;
      }
      this.#header.push(chunk[i++]!);
      if (this.#header.length === 1) continue;
      const byte = this.#header[this.#header.length - 1]!;
      if (byte & 0x80) {
        if (this.#header.length > 4) return 'malformed remaining length';
        continue;
      }
      let length = 0;
      for (let k = this.#header.length - 1; k >= 1; k--) length = length * 128 + (this.#header[k]! & 0x7f);
      this.#header = [];
      if (length > this.maxBytes) return `packet of ${length} bytes exceeds ${this.maxBytes}`;
      this.#need = length;
    }
    return undefined;
  }
}

/**
 * A per-client token bucket: `ratePerS` sustained, twice that in a burst. Brokers drop a client that
 * runs dry rather than queue its flood.
 */
export class TokenBucket {
  #tokens: number;
  #refilledAt: number;
  constructor(
    private readonly ratePerS: number,
    now = Date.now(),
  ) {
    this.#tokens = ratePerS * 2;
    this.#refilledAt = now;
  }

  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.ratePerS * 2, this.#tokens + ((now - this.#refilledAt) / 1000) * this.ratePerS);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
