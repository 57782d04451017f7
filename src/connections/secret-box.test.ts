import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config.js';
import { SecretBox, loadSecretBox, parseEncryptionKey } from './secret-box.js';

describe('SecretBox', () => {
  const box = SecretBox.fromKey(randomBytes(32));

  it('round-trips a secret and never stores it in the clear', () => {
    const sealed = box.seal('{"password":"hunter2"}', 'conn_1');
    expect(sealed).not.toContain('hunter2');
    expect(sealed.startsWith('v1:')).toBe(true);
    expect(box.open(sealed, 'conn_1')).toBe('{"password":"hunter2"}');
  });

  it('uses a fresh nonce each time', () => {
    expect(box.seal('same', 'conn_1')).not.toBe(box.seal('same', 'conn_1'));
  });

  it('refuses a value moved to another row, altered, or sealed with another key', () => {
    const sealed = box.seal('secret', 'conn_1');
    expect(() => box.open(sealed, 'conn_2')).toThrow();
    const [version, nonce, tag, body] = sealed.split(':');
    const flipped = Buffer.from(body!, 'base64');
    flipped[0]! ^= 1;
    expect(() =>
      box.open([version, nonce, tag, flipped.toString('base64')].join(':'), 'conn_1'),
    ).toThrow();
    expect(() => SecretBox.fromKey(randomBytes(32)).open(sealed, 'conn_1')).toThrow();
    expect(() => box.open('garbage', 'conn_1')).toThrow(/unrecognised/);
  });
});

describe('encryption key configuration', () => {
  const dataDir = () => mkdtempSync(path.join(os.tmpdir(), 'graticule-key-'));

  it('reads base64 and hex keys of 32 bytes only', () => {
    const key = randomBytes(32);
    expect(parseEncryptionKey(key.toString('base64'))).toEqual(key);
    expect(parseEncryptionKey(key.toString('hex'))).toEqual(key);
    expect(parseEncryptionKey(randomBytes(16).toString('base64'))).toBeUndefined();
    expect(parseEncryptionKey('short')).toBeUndefined();
  });

  it('rejects a malformed configured key', () => {
    const config = { encryptionKey: 'nope', environment: 'development', dataDir: dataDir() };
    expect(() => loadSecretBox(config)).toThrow(ConfigError);
  });

  it('requires a key in production', () => {
    const config = { encryptionKey: '', environment: 'production', dataDir: dataDir() };
    expect(() => loadSecretBox(config)).toThrow(/GRATICULE_ENCRYPTION_KEY is required/);
  });

  it('generates a development key once, readable by its owner only, and reuses it', () => {
    const config = { encryptionKey: '', environment: 'development', dataDir: dataDir() };
    const warnings: string[] = [];
    const first = loadSecretBox(config, (m) => warnings.push(m));
    const sealed = first.seal('x', 'id');
    const again = loadSecretBox(config, (m) => warnings.push(m));
    expect(again.open(sealed, 'id')).toBe('x');
    expect(warnings).toHaveLength(1);
    const file = path.join(config.dataDir, 'encryption.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(parseEncryptionKey(readFileSync(file, 'utf8'))).toBeDefined();
  });
});
