import nunjucks from 'nunjucks';
import { assetPath } from '../../../../core/paths.js';

export interface UperfProfileInput {
  name: string;
  remotehost: string;
  protocol: 'tcp' | 'udp' | 'ssl' | 'sctp';
  nthreads: number;
  /** Message size, bytes (write and read). */
  bytes: number;
  /** Seconds of data transfer. */
  duration: number;
}

let env: nunjucks.Environment | undefined;

/** Render templates/uperf/stream.xml.njk: connect, a timed write/read transaction, disconnect. */
export function renderUperfProfile(input: UperfProfileInput): string {
  env ??= new nunjucks.Environment(new nunjucks.FileSystemLoader(assetPath('templates', 'uperf')), { autoescape: true, throwOnUndefined: true });
  return env.render('stream.xml.njk', { ...input, duration: `${Math.max(1, Math.round(input.duration))}s` });
}
