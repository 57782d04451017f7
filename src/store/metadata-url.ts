const SECRET_PARAMETERS = ['password', 'sslpassword'];

/**
 * The URL of a PostgreSQL metadata store as it may be shown: user, host, port and database,
 * with the password replaced by `***`. A URL that does not parse is not shown at all.
 */
export function maskMetadataUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    // libpq also takes passwords as query parameters.
    for (const key of SECRET_PARAMETERS) {
      if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return '(unreadable URL)';
  }
}

/** Whether `text` is a URL PostgreSQL's client accepts as a metadata store location. */
export function isPostgresUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'postgres:' || protocol === 'postgresql:';
  } catch {
    return false;
  }
}
