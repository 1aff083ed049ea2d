/**
 * TypeORM's raw `query()` answers an UPDATE/DELETE … RETURNING with `[rows, affectedCount]` but an
 * INSERT or SELECT with the rows alone. This returns the rows in both cases (rows are objects,
 * never arrays, so the shapes cannot be confused).
 */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
