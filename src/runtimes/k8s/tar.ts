/**
 * Reading the tar stream `tar cf - …` writes inside a pod (files copied out of pods by tar over
 * exec): ustar and GNU headers, long names (`L` records and the ustar prefix), regular files and
 * folders. Other entries (links, devices) are listed with their type and no content.
 */

export interface TarEntry {
  name: string;
  /** `file`, `dir`, or the raw type flag of anything else. */
  type: 'file' | 'dir' | string;
  mode: number;
  data: Buffer;
}

function text(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? s.length : end).toString('utf8');
}

function octal(b: Buffer, start: number, len: number): number {
  // GNU base-256 for large sizes: high bit of the first byte set.
  if ((b[start]! & 0x80) !== 0) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = text(b, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

/** The entries of a tar archive; throws naming the offset when the archive is cut short or malformed. */
export function readTar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = octal(h, 124, 12);
    const flag = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    const checksum = octal(h, 148, 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== checksum) throw new Error(`not a tar archive (bad header checksum at byte ${off})`);
    const dataStart = off + 512;
    const dataEnd = dataStart + size;
    if (dataEnd > buf.length) throw new Error(`tar archive cut short (entry at byte ${off} needs ${size} bytes)`);
    const data = buf.subarray(dataStart, dataEnd);
    off = dataStart + Math.ceil(size / 512) * 512;
    if (flag === 'L') {
      longName = text(data, 0, data.length);
      continue;
    }
    if (flag === 'x') {
      // pax extended header: records `<len> key=value\n`; its `path` names the next entry.
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
      if (path !== undefined) longName = path;
      continue;
    }
    if (flag === 'g') continue;
    const magic = text(h, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    longName = undefined;
    const type = flag === '0' || flag === '7' ? 'file' : flag === '5' ? 'dir' : flag;
    out.push({ name: name.replace(/^\.\//, ''), type, mode: octal(h, 100, 8), data: type === 'file' ? Buffer.from(data) : Buffer.alloc(0) });
  }
  return out;
}
