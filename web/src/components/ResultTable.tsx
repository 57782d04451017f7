import type { ColumnInfo } from '../api/types';

/** Rows beyond this are counted, not drawn: a browser table of 200,000 rows helps nobody. */
const MAX_SHOWN_ROWS = 500;
const MAX_CELL_CHARACTERS = 200;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > MAX_CELL_CHARACTERS ? `${text.slice(0, MAX_CELL_CHARACTERS)}…` : text;
}

interface ResultTableProps {
  caption: string;
  columns: readonly ColumnInfo[];
  rows: readonly Record<string, unknown>[];
}

/** Rows of a SQL answer under their column names and types; scrolls sideways when wide. */
export function ResultTable({ caption, columns, rows }: ResultTableProps) {
  const shown = rows.slice(0, MAX_SHOWN_ROWS);
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={caption}>
      <table className="table table-data">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.name} scope="col">
                <span className="column-name">{column.name}</span>
                <span className="column-type">{column.type}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((row, index) => (
            <tr key={index}>
              {columns.map((column) => {
                const value = row[column.name];
                return (
                  <td key={column.name} className={value === null ? 'cell-null' : undefined}>
                    {cellText(value)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > shown.length && (
        <p className="table-note">
          Showing the first {shown.length.toLocaleString('en')} of{' '}
          {rows.length.toLocaleString('en')} rows.
        </p>
      )}
    </div>
  );
}
