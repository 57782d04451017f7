import { describe, expect, it } from 'vitest';
import type { DialectName } from '../sql-builder/dialect.js';
import { GOLDEN_CASES, renderGoldenCase } from '../test-support/widget-golden-cases.js';

const DIALECTS: DialectName[] = ['postgis', 'redshift', 'bigquery', 'snowflake', 'databricks'];

describe.each(DIALECTS)('widget SQL for %s', (dialectName) => {
  it.each(GOLDEN_CASES.map((c) => [c.name, c] as const))('%s', async (_name, golden) => {
    const statements = await renderGoldenCase(dialectName, golden);
    const text = statements
      .map((s) => `${s.text};\n-- params: ${JSON.stringify(s.params)}\n`)
      .join('\n');
    await expect(text).toMatchFileSnapshot(`./golden/${dialectName}/${golden.name}.sql`);
  });
});
