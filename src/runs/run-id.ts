import { randomUUID } from 'node:crypto';

/** A run id: a UUID (as the Arcaflow workflows use), unique across machines. */
export const newRunId = (): string => randomUUID();
