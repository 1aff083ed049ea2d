import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where downloaded media lives. A directory by default; object storage can implement the same
 * interface. Keys are content hashes, so storing the same file twice is harmless.
 */
export abstract class MediaStore {
  abstract put(key: string, bytes: Buffer): Promise<void>;
  abstract get(key: string): Promise<Buffer>;
  /** The file as a stream (for downloads, so a large file is never held in memory); null when absent. */
  abstract open(key: string): Promise<Readable | null>;
  abstract exists(key: string): Promise<boolean>;
  abstract delete(key: string): Promise<void>;
}

export class DirectoryMediaStore extends MediaStore {
  constructor(private readonly root: string) {
    super();
  }

  private pathOf(key: string): string {
    if (!/^[a-f0-9]{64}$/.test(key)) throw new Error('media keys are sha256 hex digests');
    return path.join(this.root, key.slice(0, 2), key);
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const file = this.pathOf(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Write then rename: a reader never sees half a file, even if the process dies mid-write.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
  }

  async get(key: string): Promise<Buffer> {
    return fs.readFile(this.pathOf(key));
  }

  async open(key: string): Promise<Readable | null> {
    // Opened before the stream is handed out, so a missing file is a null here and not an error
    // in the middle of a response.
    const handle = await fs.open(this.pathOf(key), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    return handle ? handle.createReadStream() : null;
  }

  async exists(key: string): Promise<boolean> {
    return fs
      .access(this.pathOf(key))
      .then(() => true)
      .catch(() => false);
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }
}
