import type { Tick } from "./types.js";

/**
 * Ticks as parallel typed arrays (arrival order), the shape the batch fast path and the bench loop over.
 * `key[i]` indexes `keys`; `time` is epoch ms.
 */
export interface TickColumns {
  readonly n: number;
  readonly keys: readonly string[];
  readonly key: Uint32Array;
  readonly time: Float64Array;
  readonly price: Float64Array;
  readonly size: Float64Array;
}

/** Appends ticks into growing typed arrays; `build()` trims them to length. */
export class TickColumnsBuilder {
  private n = 0;
  private cap: number;
  private keyIds = new Map<string, number>();
  private keys: string[] = [];
  private key: Uint32Array;
  private time: Float64Array;
  private price: Float64Array;
  private size: Float64Array;

  constructor(capacity = 1024) {
    this.cap = Math.max(16, capacity);
    this.key = new Uint32Array(this.cap);
    this.time = new Float64Array(this.cap);
    this.price = new Float64Array(this.cap);
    this.size = new Float64Array(this.cap);
  }

  /** Append one tick's key, event time, price and size. */
  push(productId: string, time: number, price: number, size: number): void {
    if (this.n === this.cap) this.grow();
    let id = this.keyIds.get(productId);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(productId);
      this.keyIds.set(productId, id);
    }
    const i = this.n++;
    this.key[i] = id;
    this.time[i] = time;
    this.price[i] = price;
    this.size[i] = size;
  }

  pushTick(t: Tick): void {
    this.push(t.product_id, t.time, t.price, t.last_size);
  }

  get length(): number {
    return this.n;
  }

  build(): TickColumns {
    const n = this.n;
    return {
      n,
      keys: this.keys.slice(),
      key: this.key.slice(0, n),
      time: this.time.slice(0, n),
      price: this.price.slice(0, n),
      size: this.size.slice(0, n),
    };
  }

  private grow(): void {
    this.cap *= 2;
    const widen = <A extends Uint32Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const b = make(this.cap);
      b.set(a);
      return b;
    };
    this.key = widen(this.key, (n) => new Uint32Array(n));
    this.time = widen(this.time, (n) => new Float64Array(n));
    this.price = widen(this.price, (n) => new Float64Array(n));
    this.size = widen(this.size, (n) => new Float64Array(n));
  }
}

/** Columns from validated ticks, in the order given. */
export function ticksToColumns(ticks: Iterable<Tick>): TickColumns {
  const b = new TickColumnsBuilder(Array.isArray(ticks) ? ticks.length : 1024);
  for (const t of ticks) b.pushTick(t);
  return b.build();
}

/** Row `i` of the columns as a Tick (only the four core fields survive the columnar form). */
export function columnTick(c: TickColumns, i: number): Tick {
  return Object.freeze({ product_id: c.keys[c.key[i]!]!, price: c.price[i]!, last_size: c.size[i]!, time: c.time[i]! });
}
