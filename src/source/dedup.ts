/**
 * No duplicate after a reconnect or a restart (pure): per product, the position of the last message produced;
 * a message that is not newer is dropped. A feed resends after a reconnect (Coinbase's first ticker on
 * subscribe is the last trade again), and a restarted source is seeded from the topic's tail.
 */
import type { FeedPosition } from "./protocol.js";

/**
 * Whether `next` comes after `last`: by trade_id when both have one (it only grows, per product), else by
 * sequence; a message with neither is taken as newer (nothing tells otherwise).
 */
export function isNewer(next: FeedPosition, last: FeedPosition | undefined): boolean {
  if (!last) return true;
  if (next.tradeId !== undefined && last.tradeId !== undefined) return next.tradeId > last.tradeId;
  if (next.sequence !== undefined && last.sequence !== undefined) return next.sequence > last.sequence;
  return true;
}

/**
 * The last position per product.
 * @example const d = new Dedup(); d.accept("BTC-USD", { tradeId: 5 }); d.accept("BTC-USD", { tradeId: 5 }) // false
 */
export class Dedup {
  private readonly last = new Map<string, FeedPosition>();

  /** True (and remembered) when the message is newer than the last one of its product. */
  accept(product: string, position: FeedPosition): boolean {
    if (!isNewer(position, this.last.get(product))) return false;
    this.last.set(product, merge(this.last.get(product), position));
    return true;
  }

  /** What was produced before this process (the topic's tail): kept only when newer than what is known. */
  seed(product: string, position: FeedPosition): void {
    if (isNewer(position, this.last.get(product))) this.last.set(product, merge(this.last.get(product), position));
  }

  position(product: string): FeedPosition | undefined {
    return this.last.get(product);
  }

  products(): string[] {
    return [...this.last.keys()].sort();
  }
}

/** A position keeps the fields the newer message lacks (a ticker without trade_id still moves the sequence). */
function merge(old: FeedPosition | undefined, next: FeedPosition): FeedPosition {
  return { sequence: next.sequence ?? old?.sequence, tradeId: next.tradeId ?? old?.tradeId };
}
