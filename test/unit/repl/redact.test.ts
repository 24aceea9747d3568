import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactString, scrubMessage, secretValues } from '../../../src/repl/redact.js';

describe('secrets in cfg and messages', () => {
  it('masks values under secret-looking keys at any depth, and keeps env-var names', () => {
    const cfg = {
      monitoring: { remote_write: [{ url: 'https://vm.example/api/v1/write', basic_auth_env: 'VM_AUTH' }] },
      g5k: { password: 'hunter22', api_token: 'tok-123456', user: 'jdoe' },
      kafka: { sasl: { secret: 'abc12345' } },
      ingest: { load: 5000 },
    };
    const r = redact(cfg);
    expect(r.g5k).toEqual({ password: REDACTED, api_token: REDACTED, user: 'jdoe' });
    expect(r.kafka.sasl.secret).toBe(REDACTED);
    expect(r.monitoring.remote_write[0]!.basic_auth_env).toBe('VM_AUTH');
    expect(r.ingest.load).toBe(5000);
    expect(JSON.stringify(r)).not.toMatch(/hunter22|tok-123456|abc12345/);
    // The original is untouched.
    expect(cfg.g5k.password).toBe('hunter22');
  });

  it('removes passwords from URLs and token query parameters', () => {
    expect(redactString('https://jdoe:s3cr3t@api.grid5000.fr/stable')).toBe(`https://jdoe:${REDACTED}@api.grid5000.fr/stable`);
    expect(redactString('http://h:9090/api?token=abcdef&x=1')).toBe(`http://h:9090/api?token=${REDACTED}&x=1`);
    expect(redactString('http://10.77.0.11:9090')).toBe('http://10.77.0.11:9090');
  });

  it('scrubs known secret values out of error messages', () => {
    const secrets = secretValues({ g5k: { password: 'hunter22' }, url: 'https://u:pw-9999@x/' });
    expect(scrubMessage('login failed for hunter22 at https://u:pw-9999@x/', secrets)).not.toMatch(/hunter22|pw-9999/);
  });
});
