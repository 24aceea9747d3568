/**
 * The one SSH stack (OpenSSH): run commands on hosts in parallel (streamed, with stdin, timeouts and
 * cancellation that kills the remote process group), copy files both ways, share connections with
 * the experiment's Ansible. Why OpenSSH: docs/architecture.md.
 */
export { execTarget, execMany, wrapCommand, killCommand, type ExecResult, type ExecOptions } from './exec.js';
export { fetchFile, fetchMany, putFile, type FetchResult, type FileOptions } from './files.js';
export { SshSession, ansibleControlPath, type SessionOptions } from './session.js';
export { targetFromHost, sshOptions, parseJumpSpec, type SshTarget, type TargetDefaults } from './target.js';
export { RemoteError, sshFailure } from './errors.js';
