import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Where downloaded media lives. A directory by default; object storage can implement the same
 * interface. Keys are content hashes, so storing the same file twice is harmless.
 */
export abstract class MediaStore {
  abstract put(key: string, bytes: Buffer): Promise<void>;
  abstract get(key: string): Promise<Buffer>;
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
