/**
 * In-process figures on the server's own keys (read from its metadata store): RS256 signing
 * with jose (the least the token endpoint must do per token), jose verification, and the
 * server's TokenService (dist/) verifying OAuth tokens (cache miss and hit) and API access
 * tokens (HS256 plus the record cache). Rates are per wall second and per CPU-second of this
 * process (every thread, so WebCrypto work on libuv's pool counts).
 */
import {
  KeyObject,
  createHmac,
  createPublicKey,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { URL, fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SignJWT, createLocalJWKSet, jwtVerify } from 'jose';

const DIST = new URL('../../dist/', import.meta.url);
const fromDist = (path) => import(new URL(path, DIST).href);

/** Runs `task(i)` with `inFlight` callers until `durationMs` passes or `limit` calls began. */
async function measureOps(task, { durationMs = Infinity, limit = Infinity, inFlight = 1 }) {
  let started = 0;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const caller = async () => {
    while (started < limit && performance.now() - startedAt < durationMs) {
      await task(started++);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
  const wallMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    count: started,
    inFlight,
    perSecond: (started * 1000) / wallMs,
    perCpuSecond: started / cpuSeconds,
    cpuUsPerOp: (cpuSeconds * 1e6) / started,
  };
}

/**
 * Runs each task over the calls `from` to `to` in alternating blocks (the order flipping each
 * block), so that all of them meet the same machine: on a shared machine the load moves from
 * second to second, and figures taken one after the other do not compare.
 */
async function measureAlternating(tasks, { from, to, block = 100 }) {
  const names = Object.keys(tasks);
  const totals = Object.fromEntries(names.map((name) => [name, { count: 0, cpuUs: 0, wallMs: 0 }]));
  for (let start = from, round = 0; start < to; start += block, round++) {
    const end = Math.min(to, start + block);
    for (const name of round % 2 ? [...names].reverse() : names) {
      const task = tasks[name];
      const cpuBefore = process.cpuUsage();
      const startedAt = performance.now();
      for (let i = start; i < end; i++) await task(i);
      const cpu = process.cpuUsage(cpuBefore);
      totals[name].wallMs += performance.now() - startedAt;
      totals[name].cpuUs += cpu.user + cpu.system;
      totals[name].count += end - start;
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const { count, cpuUs, wallMs } = totals[name];
      const figures = {
        count,
        inFlight: 1,
        perSecond: (count * 1000) / wallMs,
        perCpuSecond: (count * 1e6) / cpuUs,
        cpuUsPerOp: cpuUs / count,
      };
      return [name, figures];
    }),
  );
}

/** Opens the server's store and reads what verification and signing need from it. */
export async function openKeys(dataDir) {
  const { openStore } = await fromDist('store/store.js');
  const { loadSigningKeys } = await fromDist('auth/signing-keys.js');
  const { loadApiTokenKey } = await fromDist('tokens/api-token-key.js');
  const store = await openStore(dataDir);
  return {
    store,
    storeFile: path.join(dataDir, 'metadata.sqlite'),
    signingKeys: await loadSigningKeys(store),
    hmacKey: await loadApiTokenKey(store),
  };
}

/** The signing input and signature of a compact JWS. */
function splitJws(token) {
  const dot = token.lastIndexOf('.');
  return {
    input: Buffer.from(token.slice(0, dot)),
    signature: Buffer.from(token.slice(dot + 1), 'base64url'),
  };
}

/**
 * The floor under jose: node:crypto's synchronous RSA and HMAC on the same keys and bytes, with
 * no JOSE parsing or claim checks.
 */
async function measureCryptoFloor(keys, token, apiToken, durationMs) {
  const privateKey = KeyObject.from(keys.signingKeys.current.privateKey);
  const publicKey = createPublicKey({ key: keys.signingKeys.jwks.keys[0], format: 'jwk' });
  const rs = splitJws(token);
  const hs = splitJws(apiToken);
  return {
    rsaSign: await measureOps(() => sign('sha256', rs.input, privateKey), { durationMs }),
    rsaVerify: await measureOps(() => verify('sha256', rs.input, publicKey, rs.signature), {
      durationMs,
    }),
    hmacVerify: await measureOps(
      () =>
        timingSafeEqual(createHmac('sha256', keys.hmacKey).update(hs.input).digest(), hs.signature),
      { durationMs },
    ),
  };
}

/**
 * The application lookup the token endpoint makes several times a request (applications by
 * client id), through the server's ApplicationStore (Kysely, which prepares each statement
 * anew) and as one prepared better-sqlite3 statement reused.
 */
async function measureClientLookup(keys, clientId, durationMs) {
  const { ApplicationStore } = await fromDist('apps/application-store.js');
  const applications = new ApplicationStore(keys.store);
  const viaStore = await measureOps(() => applications.findByClientId(clientId), { durationMs });
  const database = new Database(keys.storeFile, { readonly: true });
  try {
    const statement = database.prepare('SELECT * FROM "applications" WHERE "client_id" = ?');
    const prepared = await measureOps(() => statement.get(clientId), { durationMs });
    return { viaStore, prepared };
  } finally {
    database.close();
  }
}

/** What the server wires into its TokenService beyond keys, where this build has it. */
async function attachIdentityDirectory(service, store) {
  const file = fileURLToPath(new URL('auth/identity-directory.js', DIST));
  if (typeof service.useIdentityDirectory !== 'function' || !existsSync(file)) return false;
  const { IdentityDirectory } = await fromDist('auth/identity-directory.js');
  const directory = new IdentityDirectory(store);
  await directory.refresh();
  service.useIdentityDirectory(directory);
  return true;
}

/**
 * A token as the server issues it (same header and claims, a new `jti`), signed with the
 * server's current key, so the server accepts it and has never seen it.
 */
function signLikeServer(keys, header, claims) {
  return new SignJWT({ ...claims, jti: randomBytes(32).toString('base64url') })
    .setProtectedHeader(header)
    .sign(keys.signingKeys.current.privateKey);
}

/**
 * Signing rate one at a time and with 8 in flight, then `poolSize` fresh tokens in all (the
 * signed ones included) for the cache-miss runs here and over HTTP.
 */
export async function measureSigning(keys, template, { durationMs, poolSize }) {
  const pool = [];
  const sign = async () => pool.push(await signLikeServer(keys, template.header, template.claims));
  const sequential = await measureOps(sign, { durationMs });
  const parallel = await measureOps(sign, { durationMs, inFlight: 8 });
  const missing = Math.max(0, poolSize - pool.length);
  await measureOps(sign, { limit: missing, inFlight: 8 });
  return { sequential, parallel, pool };
}

/** Verification figures, each beside the jose call it wraps. */
export async function measureVerification(keys, fixtures, { durationMs, pool }) {
  const { TokenService } = await fromDist('auth/token-service.js');
  const { ApiTokenService } = await fromDist('tokens/api-token-service.js');
  const issuer = fixtures.machineClaims.iss;
  const verifyOptions = { issuer, audience: fixtures.machineClaims.aud, algorithms: ['RS256'] };
  const keySet = createLocalJWKSet(keys.signingKeys.jwks);

  // The first quarter of the fresh tokens warms each verifier up (the JIT compiles the paths
  // it takes); the rest, never seen by it, are timed: a server verifies in steady state.
  const warm = Math.floor(pool.length / 4);
  const timed = pool.length - warm;
  const joseVerify = (token) => jwtVerify(token, keySet, verifyOptions);
  await measureOps((i) => joseVerify(pool[i]), { limit: warm });
  const joseRs256 = await measureOps((i) => joseVerify(pool[warm + i]), { limit: timed });
  const missService = new TokenService(keys.signingKeys, () => issuer);
  const withDirectory = await attachIdentityDirectory(missService, keys.store);
  // Each fresh token is checked by the service and, in alternating blocks, by node:crypto's
  // bare RSA verify on the same bytes: the floor, measured beside it in the same seconds.
  const publicKey = createPublicKey({ key: keys.signingKeys.jwks.keys[0], format: 'jwk' });
  const split = pool.map(splitJws);
  const bareRsaVerify = (i) => verify('sha256', split[i].input, publicKey, split[i].signature);
  await measureAlternating(
    { service: (i) => missService.verify(pool[i]), floor: bareRsaVerify },
    { from: 0, to: warm },
  );
  const missBesideFloor = await measureAlternating(
    { service: (i) => missService.verify(pool[i]), floor: bareRsaVerify },
    { from: warm, to: pool.length },
  );
  const serviceMiss = missBesideFloor.service;
  const hitService = new TokenService(keys.signingKeys, () => issuer);
  await attachIdentityDirectory(hitService, keys.store);
  const serviceHit = await measureOps(() => hitService.verify(fixtures.machineToken), {
    durationMs,
  });

  const joseHs256 = await measureOps(
    () => jwtVerify(fixtures.apiToken, keys.hmacKey, { algorithms: ['HS256'] }),
    { durationMs },
  );
  // The record cache TTL is the server's default; connections serve token creation only.
  const apiTokens = await ApiTokenService.open(keys.store, {
    connections: { get: async (_account, name) => ({ name }) },
    cacheTtlMs: 2_000,
  });
  hitService.useApiTokenVerifier(apiTokens.verifier);
  const serviceApiToken = await measureOps(() => hitService.verify(fixtures.apiToken), {
    durationMs,
  });
  const floor = await measureCryptoFloor(keys, pool[0], fixtures.apiToken, durationMs);
  const clientLookup = await measureClientLookup(
    keys,
    fixtures.machineClaims.client_id,
    durationMs,
  );
  return {
    withDirectory,
    floor: { ...floor, rsaVerifyBesideMiss: missBesideFloor.floor },
    joseRs256,
    serviceMiss,
    serviceHit,
    joseHs256,
    serviceApiToken,
    clientLookup,
  };
}
