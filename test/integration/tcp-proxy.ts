/**
 * What every fault-injecting TCP proxy of these tests shares: it listens on a local port, keeps
 * track of each connection it carries (both sides), and can drop them all at once. A subclass says
 * what a new client connection gets (`accept`): piped to the real service, held, or read frame by
 * frame. Used by the MongoDB recovery test, the registry outage test and the lost Kafka answer.
 *
 *   client ──► proxy (127.0.0.1:port) ──► real service       dropAll(): every connection reset
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface Target {
  readonly host: string;
  readonly port: number;
}

export abstract class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor() {
    this.#server = createServer((client) => {
      this.track(client);
      this.accept(client);
    });
  }

  /** What a new client connection gets. */
  protected abstract accept(client: Socket): void;

  /** A connection to `target`, tracked like the client's. */
  protected connect(target: Target): Socket {
    return this.track(createConnection(target.port, target.host));
  }

  /** The client piped both ways to `target`. */
  protected pipe(client: Socket, target: Target): void {
    client.pipe(this.connect(target)).pipe(client);
  }

  /** Every connection open now, both sides. */
  protected get sockets(): ReadonlySet<Socket> {
    return this.#sockets;
  }

  /** Listens (again, after close) on `port`, 0 for any free one; resolves to the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (!this.#server.listening) {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(port, host, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    }
    return (this.#server.address() as { port: number }).port;
  }

  /** Every open connection closes at once, as when the service's process restarts. */
  dropAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Every connection dropped and the port closed (new connections refused) until `listen` again. */
  async close(): Promise<void> {
    this.dropAll();
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private track(socket: Socket): Socket {
    this.#sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
    return socket;
  }
}
