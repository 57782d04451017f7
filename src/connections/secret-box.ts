/**
 * Encryption at rest for connection credentials: AES-256-GCM with a key from configuration.
 * Each value gets a fresh 96-bit nonce, and the row id is bound in as associated data, so a
 * ciphertext copied onto another connection's row does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/config.js';

const VERSION = 'v1';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const KEY_FILE = 'encryption.key';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== KEY_BYTES) throw new RangeError(`the key must be ${KEY_BYTES} bytes`);
    return new SecretBox(key);
  }

  seal(plaintext: string, boundTo: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [nonce, cipher.getAuthTag(), body].map((b) => b.toString('base64'));
    return [VERSION, ...parts].join(':');
  }

  /** Throws when the value was not sealed with this key for `boundTo`, or was altered. */
  open(sealed: string, boundTo: string): string {
    const [version, nonce, tag, body] = sealed.split(':');
    if (version !== VERSION || !nonce || !tag || body === undefined) {
      throw new Error('unrecognised encrypted value');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64'));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
    return text.toString('utf8');
  }
}

/** Reads a 32-byte key written as base64 (44 characters) or hex (64 characters). */
export function parseEncryptionKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  return key.length === KEY_BYTES && trimmed.length >= 44 ? key : undefined;
}

export interface EncryptionKeySource {
  encryptionKey: string;
  environment: string;
  dataDir: string;
}

/**
 * The configured key. Outside production a missing key is generated once into the data
 * directory (readable by its owner only), so `npm start` works on a laptop; production must
 * configure one, since a key next to the data it protects guards against little.
 */
export function loadSecretBox(
  config: EncryptionKeySource,
  warn: (message: string) => void = () => {},
): SecretBox {
  if (config.encryptionKey) {
    const key = parseEncryptionKey(config.encryptionKey);
    if (!key) {
      throw new ConfigError(
        'GRATICULE_ENCRYPTION_KEY must be 32 bytes as base64 or hex (openssl rand -base64 32)',
      );
    }
    return SecretBox.fromKey(key);
  }
  if (config.environment === 'production') {
    throw new ConfigError(
      'GRATICULE_ENCRYPTION_KEY is required when GRATICULE_ENV=production: it encrypts ' +
        'connection credentials. Generate one with: openssl rand -base64 32',
    );
  }
  const file = path.join(config.dataDir, KEY_FILE);
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600 });
    warn(
      `Generated a development encryption key in ${file}; set GRATICULE_ENCRYPTION_KEY ` +
        'in production',
    );
  }
  chmodSync(file, 0o600);
  const key = parseEncryptionKey(readFileSync(file, 'utf8'));
  if (!key) throw new ConfigError(`${file} does not hold a 32-byte base64 key`);
  return SecretBox.fromKey(key);
}
