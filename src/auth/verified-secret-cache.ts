import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { verifyClientSecret } from './client-secret.js';

/**
 * Remembers, for a few minutes, which (secret, stored hash) pairs verified, so a client that
 * asks for tokens often pays the deliberately slow scrypt check once. The key covers the stored
 * hash, so a rotated secret stops matching at once. Only a SHA-256 of the secret is kept, and
 * failures are never cached.
 */
export class VerifiedSecretCache {
  private readonly verified = new LRUCache<string, true>({ max: 10_000, ttl: 5 * 60_000 });

  async verify(secret: string, storedHash: string): Promise<boolean> {
    const key = createHash('sha256')
      .update(storedHash)
      .update('\0')
      .update(secret)
      .digest('base64');
    if (this.verified.has(key)) return true;
    const isValid = await verifyClientSecret(secret, storedHash);
    if (isValid) this.verified.set(key, true);
    return isValid;
  }
}
