import { Transform, type TransformCallback } from 'node:stream';

/**
 * Sits between a LAN socket and aedes and follows MQTT framing (fixed header + remaining-length
 * varint) without decoding packets. A packet whose announced length exceeds `maxBytes`, or a
 * malformed length, ends the connection before its body is buffered: aedes' parser would otherwise
 * accept packets up to 256 MB.
 */
export class FrameGuard extends Transform {
  #need = 0; // body bytes still to pass of the current packet
  #header: number[] = []; // bytes of a fixed header being read
  constructor(
    private readonly maxBytes: number,
    private readonly onViolation: (reason: string) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
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
        if (this.#header.length > 4) return this.#fail('malformed remaining length', done);
        continue;
      }
      let length = 0;
      for (let k = this.#header.length - 1; k >= 1; k--) length = length * 128 + (this.#header[k]! & 0x7f);
      this.#header = [];
      if (length > this.maxBytes) return this.#fail(`packet of ${length} bytes exceeds ${this.maxBytes}`, done);
      this.#need = length;
    }
    done(null, chunk);
  }

  #fail(reason: string, done: TransformCallback): void {
    this.onViolation(reason);
    done(new Error(reason));
  }
}
