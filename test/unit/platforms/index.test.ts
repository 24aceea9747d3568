import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../../src/core/errors.js';
import { platformFor } from '../../../src/platforms/index.js';

describe('platformFor', () => {
  it('returns the local and static platforms by kind', async () => {
    expect((await platformFor('local')).kind).toBe('local');
    expect((await platformFor('static')).kind).toBe('static');
  });
  it('refuses a kind it does not know with a PlatformError', async () => {
    await expect(platformFor('nope' as never)).rejects.toBeInstanceOf(PlatformError);
    await expect(platformFor('nope' as never)).rejects.toThrow(/platform "nope" is not available/);
  });
});
