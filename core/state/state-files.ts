import * as fs from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, chmod, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The file operations the cursor store needs, in one place so that a test can make them fail the way
 * a full disk does. Everything it creates is private: directories 0700, files 0600 (cursors say what
 * was collected from which account).
 */
export interface StateFiles {
  /** The file's text, or undefined when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  list(dir: string): Promise<string[]>;
  /** Creates the directory (0700) if needed and makes it private if it is ours; returns a warning otherwise. */
  ensurePrivateDir(dir: string): Promise<string | undefined>;
  /** Opens (creating, 0600) a file for positioned writes; returns its descriptor and size. */
  openForWrite(path: string): { fd: number; size: number };
  /** Writes all of `data` at `position`; throws on any failure, possibly after a partial write. */
  writeAt(fd: number, data: Buffer, position: number): void;
  truncate(fd: number, length: number): void;
  close(fd: number): void;
  /** Writes the chunks to `path` atomically: a private temp file, fsync, rename, fsync of the folder. */
  writeAtomically(path: string, chunks: AsyncIterable<string>): Promise<number>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export const nodeStateFiles: StateFiles = {
  async readText(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  },
  async ensurePrivateDir(dir) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await stat(dir);
    if ((info.mode & 0o077) === 0) return undefined;
    try {
      await chmod(dir, 0o700);
      return undefined;
    } catch (error) {
      return `state directory ${dir} is readable by other users and could not be made private (${(error as Error).message})`;
    }
  },
  openForWrite(path) {
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    return { fd, size: fs.fstatSync(fd).size };
  },
  writeAt(fd, data, position) {
    let written = 0;
    while (written < data.length)
      written += fs.writeSync(fd, data, written, data.length - written, position + written);
  },
  truncate(fd, length) {
    fs.ftruncateSync(fd, length);
  },
  close(fd) {
    fs.closeSync(fd);
  },
  async writeAtomically(path, chunks) {
    const tmp = `${path}.tmp`;
    const file = await open(tmp, 'w', 0o600);
    let bytes = 0;
    try {
      for await (const chunk of chunks) {
        await file.write(chunk);
        bytes += Buffer.byteLength(chunk);
      }
      await file.sync();
    } catch (error) {
      await file.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw error;
    }
    await file.close();
    await rename(tmp, path);
    await syncDir(dirname(path));
    return bytes;
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { recursive: true, force: true }),
};

/** Makes a rename durable. Best effort: some filesystems refuse to fsync a directory. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported here; the rename itself is still atomic
  }
}

/**
 * Test-only: while the file `flagPath` exists, the disk is (nearly) full: the number it holds is how
 * many bytes files may still grow by (empty: none). As on a real filesystem, writes inside a file's
 * existing size still succeed (those blocks are allocated); a write that would grow a file past the
 * free space writes what fits and fails with ENOSPC; a snapshot larger than the free space cannot be
 * written. Set by DOGWATCH_FAULT_DISK_FULL_FLAG (the reliability soak).
 */
export function diskFullWhileFlagged(base: StateFiles, flagPath: string): StateFiles {
  let free = 0;
  let freeFor = '';
  /** Free bytes while flagged (the flag's number, less what was used since it was written); Infinity otherwise. */
  const freeBytes = (): number => {
    let text: string;
    try {
      text = fs.readFileSync(flagPath, 'utf8').trim();
    } catch {
      return Number.POSITIVE_INFINITY;
    }
    if (text !== freeFor) {
      freeFor = text;
      free = Number(text) || 0;
    }
    return free;
  };
  const use = (bytes: number): void => {
    if (Number.isFinite(freeBytes())) free = Math.max(0, free - bytes);
  };
  const enospc = (path: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    });
  const open = new Map<number, { path: string; size: number }>();
  return {
    ...base,
    openForWrite(path) {
      const opened = base.openForWrite(path);
      open.set(opened.fd, { path, size: opened.size });
      return opened;
    },
    writeAt(fd, data, position) {
      const file = open.get(fd) ?? { path: String(fd), size: Number.POSITIVE_INFINITY };
      const end = position + data.length;
      const growth = Math.max(0, end - file.size);
      if (growth <= freeBytes()) {
        base.writeAt(fd, data, position);
        use(growth);
        file.size = Math.max(file.size, end);
        return;
      }
      // As a real disk does: what fits is written (a record torn at the boundary), then ENOSPC.
      const written = Math.min(data.length, Math.max(0, file.size - position) + freeBytes());
      if (written > 0) base.writeAt(fd, data.subarray(0, written), position);
      use(Math.max(0, position + written - file.size));
      file.size = Math.max(file.size, position + written);
      throw enospc(file.path);
    },
    truncate(fd, length) {
      base.truncate(fd, length);
      const file = open.get(fd);
      if (file && Number.isFinite(freeBytes()) && Number.isFinite(file.size))
        free += Math.max(0, file.size - length);
      if (file) file.size = length;
    },
    close(fd) {
      open.delete(fd);
      base.close(fd);
    },
    async writeAtomically(path, chunks) {
      const limited = async function* (): AsyncIterable<string> {
        for await (const chunk of chunks) {
          const bytes = Buffer.byteLength(chunk);
          if (bytes > freeBytes()) throw enospc(`${path}.tmp`);
          use(bytes);
          yield chunk;
        }
      };
      return base.writeAtomically(path, limited());
    },
  };
}

/** The StateFiles of this process: the real ones, or the full-disk fault when the soak asks for it. */
export function processStateFiles(env: NodeJS.ProcessEnv = process.env): StateFiles {
  const flag = env.DOGWATCH_FAULT_DISK_FULL_FLAG;
  return flag ? diskFullWhileFlagged(nodeStateFiles, flag) : nodeStateFiles;
}

/** No such file, or a path through something that is not a directory: nothing stored there. */
function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
