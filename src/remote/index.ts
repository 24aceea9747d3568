/** SSH to experiment hosts (ssh2): run commands in parallel, cancel them, fetch files. */
export { connect, type SshConnection, type ConnectOptions } from './connect.js';
export { execOn, execTarget, execMany, shQuote, wrapCommand, oneShot, type ExecResult, type ExecOptions, type ConnectionSource } from './exec.js';
export { fetchFrom, fetchMany, type FetchResult, type FetchOptions } from './fetch.js';
export { SshPool } from './pool.js';
export { targetFromHost, type SshTarget, type TargetDefaults } from './target.js';
export { RemoteError } from './errors.js';
