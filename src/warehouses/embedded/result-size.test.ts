import { describe, expect, it } from 'vitest';
import { exceedsResultBudget, resultTooLargeMessage } from './result-size.js';

describe('exceedsResultBudget', () => {
  it('counts string lengths, column names and a constant per other value', () => {
    const rows = [{ name: 'x'.repeat(90), n: 1 }];

    expect(exceedsResultBudget(rows, 120)).toBe(false);
    expect(exceedsResultBudget(rows, 100)).toBe(true);
  });

  it('counts the values inside arrays and parsed json', () => {
    const rows = [{ doc: { items: ['y'.repeat(500), 'z'.repeat(500)] } }];

    expect(exceedsResultBudget(rows, 900)).toBe(true);
    expect(exceedsResultBudget(rows, 2_000)).toBe(false);
  });

  it('adds up many small rows', () => {
    const rows = Array.from({ length: 1_000 }, (_, id) => ({ id }));

    expect(exceedsResultBudget(rows, 5_000)).toBe(true);
    expect(exceedsResultBudget([], 0)).toBe(false);
  });
});

describe('resultTooLargeMessage', () => {
  it('names the budget in MiB', () => {
    expect(resultTooLargeMessage(64 * 1024 * 1024)).toMatch(/^The result is larger than 64 MiB; /);
    expect(resultTooLargeMessage(1536 * 1024)).toMatch(/larger than 1\.5 MiB/);
  });
});
