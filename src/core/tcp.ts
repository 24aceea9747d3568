/** Whether a TCP port accepts a connection. */
import { connect } from 'node:net';

/** True when `host:port` accepts a TCP connection within `timeoutMs` (the connection is closed at once). */
export function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
