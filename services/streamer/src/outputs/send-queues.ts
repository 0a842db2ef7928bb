// How much of what we wrote to a TCP socket the peer has not taken yet, as far as the kernel holds
// it: Linux's /proc/net/tcp{,6} tx_queue, per socket inode. Node shows only its own user-space
// backlog (writableLength), and on Linux the kernel's send buffer autotunes to megabytes, minutes
// of 128 kbps audio; a listener that stopped reading looks current until that buffer is full.
import { readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];

/** The socket's inode (from its descriptor), or undefined where that cannot be seen (not Linux). */
export function socketInode(socket: Socket | null | undefined): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } } | null)?._handle?.fd;
  if (fd === undefined || fd < 0) return undefined;
  try {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bytes queued in the kernel per socket inode, for the sockets whose queue is not empty. Null
 * where the tables cannot be read (not Linux): callers fall back to their own backlog.
 */
export async function kernelSendQueues(): Promise<Map<number, number> | null> {
  const out = new Map<number, number>();
  let read = false;
  for (const table of TABLES) {
    let text: string;
    try {
      text = await readFile(table, 'latin1');
    } catch {
      continue;
    }
    read = true;
    // "  sl  local_address rem_address   st tx_queue:rx_queue tr tm->when retrnsmt uid timeout inode"
    let i = text.indexOf('\n') + 1;
    while (i > 0 && i < text.length) {
      const end = text.indexOf('\n', i);
      const line = text.slice(i, end < 0 ? text.length : end);
      i = end < 0 ? -1 : end + 1;
      const f = line.trim().split(/\s+/);
      const tx = f[4]?.slice(0, 8);
      if (!tx || tx === '00000000') continue;
      const inode = Number(f[9]);
      if (inode > 0) out.set(inode, Number.parseInt(tx, 16));
    }
  }
  return read ? out : null;
}
