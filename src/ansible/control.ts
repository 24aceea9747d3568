import { existsSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { controlPathDir, controlSockets } from './config.js';

/**
 * Stop the ssh ControlPersist masters of an experiment (they outlive their hosts for up to 60 s
 * with sockets to vanished addresses) and remove the control folder. Returns the sockets closed.
 */
export async function closeControlMasters(stateDir: string): Promise<string[]> {
  const sockets = controlSockets(stateDir);
  await Promise.all(
    sockets.map((s) =>
      execa('ssh', ['-o', `ControlPath=${s}`, '-O', 'exit', 'greenrace-control'], { reject: false, timeout: 5_000, stdin: 'ignore' }),
    ),
  );
  const dir = controlPathDir(stateDir);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return sockets;
}
