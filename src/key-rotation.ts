import { startService } from './bootstrap';
import { Encryption } from './common/encryption';
import { ConnectionsService } from './connections/connections.service';

export interface RotationResult {
  /** Credentials rewritten under the current key. */
  rewritten: number;
  /** The id of the current key (the second part of every stored value). */
  keyId: string;
  /** Whether ENCRYPTION_KEY_PREVIOUS was set (without it there is nothing to rewrite). */
  previousKeySet: boolean;
}

/**
 * Rewrites every connection's credentials that are still encrypted under ENCRYPTION_KEY_PREVIOUS
 * with ENCRYPTION_KEY. Boots the application context without HTTP and without workers (ROLE=api),
 * so it can run beside the service; in embedded mode the service must be stopped first (one
 * process owns the embedded database).
 */
export async function rotateEncryptionKey(env: Record<string, string | undefined>): Promise<RotationResult> {
  const service = await startService({ LOG_LEVEL: 'warn', ...env, ROLE: 'api' }, { listen: false });
  try {
    const rewritten = await service.app.get(ConnectionsService).reencryptAll();
    return { rewritten, keyId: service.app.get(Encryption).keyId, previousKeySet: Boolean(service.config.encryption.previousKey) };
  } finally {
    await service.stop();
  }
}
