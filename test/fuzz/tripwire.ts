import { LookupAddress, lookup as dnsLookup } from 'node:dns';
import { Socket } from 'node:net';
import { ipBytes } from '../../src/domain/egress';

/**
 * A tripwire on every outbound TCP connection this process makes (the worker's activities run in
 * it): a connection to anything but a loopback address is recorded and never made. The injection
 * tests use it so that, even if the egress checks were broken, no packet would leave for a
 * metadata service or the internet, and so that any such attempt fails the test.
 */
export interface Tripwire {
  /** `host:port` of every refused attempt. */
  readonly attempts: string[];
  restore(): void;
}

function isLoopback(address: string): boolean {
  const bytes = ipBytes(address);
  if (!bytes) return false;
  const v4 = bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff ? bytes.slice(12) : bytes;
  return v4.length === 4 ? v4[0] === 127 : v4.slice(0, 15).every((b) => b === 0) && v4[15] === 1;
}

type Connect = (this: Socket, ...args: unknown[]) => Socket;
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type LookupFn = (hostname: string, options: Record<string, unknown>, callback: LookupCallback) => void;

export function installTripwire(): Tripwire {
  const attempts: string[] = [];
  const proto = Socket.prototype as unknown as { connect: Connect };
  const original = proto.connect;
  proto.connect = function (this: Socket, ...args: unknown[]): Socket {
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const options = (typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined }) as {
      host?: string;
      port?: number | string;
      path?: string;
      lookup?: LookupFn;
    };
    if (options.path !== undefined) return original.apply(this, args);
    const host = (options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
    if (ipBytes(host)) {
      if (!isLoopback(host)) {
        attempts.push(`${host}:${String(options.port)}`);
        process.nextTick(() => this.destroy(new Error(`tripwire: refused a connection to ${host}`)));
        return this;
      }
      return original.apply(this, args);
    }
    // A name: let it resolve, but refuse any answer that is not loopback before connecting.
    const resolve: LookupFn = options.lookup ?? dnsLookup;
    options.lookup = (hostname, lookupOptions, callback) =>
      resolve(hostname, lookupOptions, (err, address, family) => {
        if (err) return callback(err, address, family);
        const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
        const outside = addresses.filter((a) => !isLoopback(a));
        if (outside.length > 0) {
          attempts.push(`${hostname} (${outside.join(', ')}):${String(options.port)}`);
          return callback(Object.assign(new Error(`tripwire: ${hostname} resolved to ${outside.join(', ')}`), { code: 'ETRIPWIRE' }), address, family);
        }
        return callback(null, address, family);
      });
    return original.apply(this, args);
  };
  return {
    attempts,
    restore: () => {
      proto.connect = original;
    },
  };
}
