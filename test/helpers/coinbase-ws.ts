/**
 * A local WebSocket server speaking Coinbase Exchange's feed protocol, the only fake in the source tests: it
 * answers `subscribe` (channels as names or as `{name, product_ids}`) with `subscriptions`, sends generated
 * `ticker` messages for its products (sequence and trade_id increasing per product) and a `heartbeat` per
 * product per second, and answers an unknown product with `error`. Controls: drop every connection, go down for
 * a while (connections refused) and come back on the same port, fall silent without closing, and resend the last
 * few tickers to a client that (re)subscribes, as a real feed sends its last trade again.
 */
import { once } from "node:events";
import { WebSocket, WebSocketServer } from "ws";
import { freePort } from "../../src/util/net.js";

export interface CoinbaseWsOptions {
  products: readonly string[];
  /** Ticker messages per product per second (default 20). */
  ratePerSecond?: number;
  /** Tickers per product resent to a client when it subscribes (default 3; 0 = none). */
  resend?: number;
  port?: number;
}

interface Client {
  ws: WebSocket;
  tickers: Set<string>;
  heartbeats: Set<string>;
}

/** One generated ticker as sent. */
export interface SentTicker {
  product: string;
  sequence: number;
  tradeId: number;
  text: string;
}

export class CoinbaseWsServer {
  private wss: WebSocketServer | undefined;
  private readonly clients = new Set<Client>();
  private readonly state = new Map<string, { sequence: number; tradeId: number; price: number }>();
  private tick: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  private silent = false;
  /** Per product, every ticker that reached at least one subscribed client, in order (resends excluded). */
  readonly delivered = new Map<string, SentTicker[]>();
  /** Tickers generated while no client was subscribed to the product, or while down or silent. */
  undelivered = 0;
  /** Subscribe requests received, and every connection accepted. */
  subscribes = 0;
  connections = 0;
  /** Heartbeats and subscription answers sent. */
  controlSent = 0;
  port = 0;

  private constructor(private readonly o: CoinbaseWsOptions) {
    o.products.forEach((p, i) => {
      this.state.set(p, { sequence: 1_000_000 * (i + 1), tradeId: 50_000 * (i + 1), price: 100 * (i + 1) });
      this.delivered.set(p, []);
    });
  }

  static async start(o: CoinbaseWsOptions): Promise<CoinbaseWsServer> {
    const s = new CoinbaseWsServer(o);
    s.port = o.port ?? (await freePort());
    await s.listen();
    const every = 1000 / (o.ratePerSecond ?? 20);
    s.tick = setInterval(() => s.generate(), every);
    s.beat = setInterval(() => s.heartbeat(), 1000);
    return s;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Every delivered trade id of `product`. */
  tradeIds(product: string): number[] {
    return (this.delivered.get(product) ?? []).map((t) => t.tradeId);
  }

  /** Close every connection at once (the server keeps listening): clients see the socket drop. */
  dropAll(): void {
    for (const c of this.clients) c.ws.terminate();
  }

  /** Stop listening and drop everyone for `ms` (connections are refused meanwhile), then listen on the same port. */
  async down(ms: number): Promise<void> {
    await this.closeListener();
    await new Promise((r) => setTimeout(r, ms));
    await this.listen();
  }

  /** Keep the connections open but send nothing for `ms` (a dead feed that TCP has not noticed). */
  async silence(ms: number): Promise<void> {
    this.silent = true;
    await new Promise((r) => setTimeout(r, ms));
    this.silent = false;
  }

  async close(): Promise<void> {
    clearInterval(this.tick);
    clearInterval(this.beat);
    await this.closeListener();
  }

  private async listen(): Promise<void> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: this.port });
    await once(wss, "listening");
    wss.on("connection", (ws) => this.accept(ws));
    this.wss = wss;
  }

  private async closeListener(): Promise<void> {
    const wss = this.wss;
    this.wss = undefined;
    if (!wss) return;
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    await new Promise<void>((r) => wss.close(() => r()));
  }

  private accept(ws: WebSocket): void {
    this.connections++;
    const client: Client = { ws, tickers: new Set(), heartbeats: new Set() };
    this.clients.add(client);
    ws.on("close", () => this.clients.delete(client));
    ws.on("error", () => undefined);
    ws.on("message", (data) => this.request(client, data.toString()));
  }

  private request(c: Client, text: string): void {
    let req: { type?: string; product_ids?: string[]; channels?: (string | { name: string; product_ids?: string[] })[] };
    try {
      req = JSON.parse(text);
    } catch {
      this.send(c, { type: "error", message: "Failed to parse", reason: "malformed JSON" });
      return;
    }
    if (req.type !== "subscribe") {
      this.send(c, { type: "error", message: "Failed to subscribe", reason: `${req.type} is not a valid type` });
      return;
    }
    this.subscribes++;
    const wanted = new Map<string, string[]>();
    for (const ch of req.channels ?? []) {
      const name = typeof ch === "string" ? ch : ch.name;
      const ids = typeof ch === "string" ? (req.product_ids ?? []) : (ch.product_ids ?? req.product_ids ?? []);
      wanted.set(name, [...(wanted.get(name) ?? []), ...ids]);
    }
    const bad = [...wanted.values()].flat().find((p) => !this.state.has(p));
    if (bad) {
      this.send(c, { type: "error", message: "Failed to subscribe", reason: `${bad} is not a valid product` });
      return;
    }
    for (const p of wanted.get("ticker") ?? []) c.tickers.add(p);
    for (const p of wanted.get("heartbeat") ?? []) c.heartbeats.add(p);
    this.send(c, { type: "subscriptions", channels: [...wanted].map(([name, ids]) => ({ name, product_ids: [...new Set(ids)] })) });
    this.controlSent++;
    const n = this.o.resend ?? 3;
    for (const p of c.tickers) for (const t of (this.delivered.get(p) ?? []).slice(-n)) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(t.text);
  }

  private send(c: Client, msg: unknown): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  }

  private generate(): void {
    for (const [product, s] of this.state) {
      s.sequence += 1 + Math.floor(Math.random() * 4);
      s.tradeId += 1;
      s.price *= 1 + (Math.random() - 0.5) / 500;
      const price = s.price.toFixed(2);
      const text = JSON.stringify({
        type: "ticker",
        sequence: s.sequence,
        product_id: product,
        price,
        open_24h: "100.00",
        volume_24h: "1234.50000000",
        low_24h: "90.00",
        high_24h: "110.00",
        volume_30d: "40000.00000000",
        best_bid: price,
        best_bid_size: "0.10000000",
        best_ask: (s.price + 0.01).toFixed(2),
        best_ask_size: "0.20000000",
        side: Math.random() < 0.5 ? "buy" : "sell",
        time: isoMicros(Date.now()),
        trade_id: s.tradeId,
        last_size: (Math.random() + 0.001).toFixed(8),
      });
      const to = this.silent ? [] : [...this.clients].filter((c) => c.tickers.has(product) && c.ws.readyState === WebSocket.OPEN);
      for (const c of to) c.ws.send(text);
      if (to.length) this.delivered.get(product)!.push({ product, sequence: s.sequence, tradeId: s.tradeId, text });
      else this.undelivered++;
    }
  }

  private heartbeat(): void {
    if (this.silent) return;
    for (const c of this.clients) {
      for (const product of c.heartbeats) {
        const s = this.state.get(product)!;
        this.send(c, { type: "heartbeat", last_trade_id: s.tradeId, product_id: product, sequence: s.sequence, time: isoMicros(Date.now()) });
        this.controlSent++;
      }
    }
  }
}

/** An ISO time with six fractional digits, as Coinbase writes it. */
function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, `${String(Math.floor(Math.random() * 1000)).padStart(3, "0")}Z`);
}
