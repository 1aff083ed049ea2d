import { ConfigValidationError } from '../config/env.validation';
import { rotateEncryptionKey } from './key-rotation';

/** `npm run rotate-key`: re-encrypts stored credentials after ENCRYPTION_KEY changed (see README). */
async function main(): Promise<void> {
  try {
    const result = await rotateEncryptionKey(process.env);
    console.log(`re-encrypted ${result.rewritten} connection credential(s) under key ${result.keyId}`);
    if (!result.previousKeySet) console.log('note: ENCRYPTION_KEY_PREVIOUS is not set, so no credentials under an older key could be read');
    process.exit(0);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error('key rotation failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

void main();
