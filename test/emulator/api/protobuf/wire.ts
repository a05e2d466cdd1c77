// The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), as much of it as the
// Kubernetes API's generated.proto messages use: varints (int32, int64, bool, enums as strings do not occur)
// and length-delimited fields (strings, bytes, embedded messages, map entries). No fixed-width field is
// used by these messages; a reader still skips them, as any protobuf parser does with unknown fields.

export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

export class WireError extends Error {}

export interface WireField {
  number: number;
  wireType: number;
  /** VARINT: the value (64-bit, unsigned); LENGTH_DELIMITED: the bytes. */
  varint?: bigint;
  bytes?: Uint8Array;
}

export class Reader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new WireError('unexpected end of data in a varint');
      const b = this.buf[this.pos++] ?? 0;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new WireError('varint longer than 10 bytes');
    }
  }

  field(): WireField {
    const key = this.varint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number === 0) throw new WireError('illegal field number 0');
    switch (wireType) {
      case VARINT:
        return { number, wireType, varint: this.varint() };
      case LENGTH_DELIMITED: {
        const length = Number(this.varint());
        if (this.pos + length > this.buf.length) throw new WireError(`field ${number}: length ${length} past the end`);
        const bytes = this.buf.subarray(this.pos, this.pos + length);
        this.pos += length;
        return { number, wireType, bytes };
      }
      case FIXED64:
        this.skip(8);
        return { number, wireType };
      case FIXED32:
        this.skip(4);
        return { number, wireType };
      default:
        throw new WireError(`field ${number}: unsupported wire type ${wireType}`);
    }
  }

  private skip(n: number): void {
    if (this.pos + n > this.buf.length) throw new WireError('unexpected end of data');
    this.pos += n;
  }
}

export class Writer {
  private readonly chunks: Uint8Array[] = [];

  varintField(number: number, value: bigint | number | boolean): void {
    this.key(number, VARINT);
    this.varint(typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt.asUintN(64, BigInt(value)));
  }

  bytesField(number: number, bytes: Uint8Array): void {
    this.key(number, LENGTH_DELIMITED);
    this.varint(BigInt(bytes.length));
    this.chunks.push(bytes);
  }

  stringField(number: number, value: string): void {
    this.bytesField(number, Buffer.from(value, 'utf8'));
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks);
  }

  private key(number: number, wireType: number): void {
    this.varint(BigInt((number << 3) | wireType));
  }

  private varint(value: bigint): void {
    const out: number[] = [];
    let v = value;
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      out.push(b);
    } while (v > 0n);
    this.chunks.push(Uint8Array.from(out));
  }
}

/** A varint read as a signed 64-bit integer (int32 and int64 fields carry negatives in two's complement). */
export function signed(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}
