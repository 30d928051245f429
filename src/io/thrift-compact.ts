/**
 * The Thrift compact protocol, generically: a struct is read into its fields (id, type, value)
 * in order, and written back as read, so a Parquet footer or page header can be edited (a field
 * set, an offset moved) without a schema for the fields lsar does not touch.
 */

export const T = {
  STOP: 0,
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

export type TValue = number | bigint | boolean | Uint8Array | TList | TStruct | TMap;
export interface TList {
  kind: 'list';
  elem: number;
  items: TValue[];
}
export interface TMap {
  kind: 'map';
  key: number;
  value: number;
  entries: [TValue, TValue][];
}
export interface TField {
  id: number;
  type: number;
  value: TValue;
}
export interface TStruct {
  kind: 'struct';
  fields: TField[];
}

/** A read past the end of the bytes (a header longer than what was read, or a corrupt one). */
export class ThriftEnd extends Error {}

export class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.b.length) throw new ThriftEnd('thrift: read past the end');
    return this.b[this.pos++] as number;
  }

  private varint(): bigint {
    let shift = 0n;
    let out = 0n;
    for (let i = 0; i < 10; i++) {
      const c = this.byte();
      out |= BigInt(c & 0x7f) << shift;
      if ((c & 0x80) === 0) return out;
      shift += 7n;
    }
    throw new Error('thrift: varint longer than 10 bytes');
  }

  private zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  private value(type: number): TValue {
    switch (type) {
      case T.TRUE:
        return true;
      case T.FALSE:
        return false;
      case T.BYTE: {
        const v = this.byte();
        return v > 127 ? v - 256 : v;
      }
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        if (this.pos + 8 > this.b.length) throw new ThriftEnd('thrift: read past the end');
        const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case T.BINARY: {
        const n = Number(this.varint());
        if (this.pos + n > this.b.length) throw new ThriftEnd('thrift: read past the end');
        const v = this.b.slice(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case T.LIST:
      case T.SET: {
        const h = this.byte();
        const size = h >> 4 === 15 ? Number(this.varint()) : h >> 4;
        const elem = h & 15;
        const items: TValue[] = [];
        for (let i = 0; i < size; i++) {
          // booleans in a list are one byte each (1 true, 2 false)
          items.push(elem === T.TRUE || elem === T.FALSE ? this.byte() === T.TRUE : this.value(elem));
        }
        return { kind: 'list', elem, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return { kind: 'map', key: 0, value: 0, entries: [] };
        const kv = this.byte();
        const entries: [TValue, TValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(kv >> 4), this.value(kv & 15)]);
        return { kind: 'map', key: kv >> 4, value: kv & 15, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift: unknown type ${type}`);
    }
  }

  struct(): TStruct {
    const fields: TField[] = [];
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === T.STOP) return { kind: 'struct', fields };
      const type = h & 15;
      const delta = h >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      fields.push({ id, type, value: this.value(type) });
      last = id;
    }
  }
}

export class Writer {
  private out: number[] = [];

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  private varint(v: bigint): void {
    let x = v;
    do {
      let c = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) c |= 0x80;
      this.out.push(c);
    } while (x > 0n);
  }

  private zigzag(v: bigint): void {
    this.varint(v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }

  private value(type: number, v: TValue): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return; // in the field header
      case T.BYTE:
        this.out.push((v as number) & 0xff);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(v as number));
        return;
      case T.I64:
        this.zigzag(typeof v === 'bigint' ? v : BigInt(v as number));
        return;
      case T.DOUBLE: {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v as number, true);
        this.out.push(...b);
        return;
      }
      case T.BINARY: {
        const b = v as Uint8Array;
        this.varint(BigInt(b.length));
        for (const c of b) this.out.push(c);
        return;
      }
      case T.LIST:
      case T.SET: {
        const l = v as TList;
        if (l.items.length < 15) this.out.push((l.items.length << 4) | l.elem);
        else {
          this.out.push(0xf0 | l.elem);
          this.varint(BigInt(l.items.length));
        }
        for (const item of l.items) {
          if (l.elem === T.TRUE || l.elem === T.FALSE) this.out.push(item ? T.TRUE : T.FALSE);
          else this.value(l.elem, item);
        }
        return;
      }
      case T.MAP: {
        const m = v as TMap;
        this.varint(BigInt(m.entries.length));
        if (m.entries.length === 0) return;
        this.out.push((m.key << 4) | m.value);
        for (const [k, x] of m.entries) {
          this.value(m.key, k);
          this.value(m.value, x);
        }
        return;
      }
      case T.STRUCT:
        this.struct(v as TStruct);
        return;
      default:
        throw new Error(`thrift: unknown type ${type}`);
    }
  }

  struct(s: TStruct): void {
    let last = 0;
    for (const f of s.fields) {
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.out.push((delta << 4) | type);
      else {
        this.out.push(type);
        this.zigzag(BigInt(f.id));
      }
      this.value(type, f.value);
      last = f.id;
    }
    this.out.push(T.STOP);
  }
}

export function decodeStruct(bytes: Uint8Array): { struct: TStruct; length: number } {
  const r = new Reader(bytes);
  const struct = r.struct();
  return { struct, length: r.pos };
}

export function encodeStruct(s: TStruct): Uint8Array {
  const w = new Writer();
  w.struct(s);
  return w.bytes();
}

/** The field with this id, if present. */
export function field(s: TStruct, id: number): TField | undefined {
  return s.fields.find((f) => f.id === id);
}

/** A field's value as a number (i16/i32/i64), or undefined. */
export function num(s: TStruct, id: number): number | undefined {
  const v = field(s, id)?.value;
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined;
}

/** Set a numeric field (added in id order when absent). */
export function setNum(s: TStruct, id: number, type: number, value: number): void {
  const v = type === T.I64 ? BigInt(value) : value;
  const f = field(s, id);
  if (f) {
    f.value = v;
    return;
  }
  const at = s.fields.findIndex((x) => x.id > id);
  const nf: TField = { id, type, value: v };
  if (at < 0) s.fields.push(nf);
  else s.fields.splice(at, 0, nf);
}

export function sub(s: TStruct, id: number): TStruct | undefined {
  const v = field(s, id)?.value as TStruct | undefined;
  return v?.kind === 'struct' ? v : undefined;
}

export function list(s: TStruct, id: number): TValue[] {
  const v = field(s, id)?.value as TList | undefined;
  return v?.kind === 'list' ? v.items : [];
}
