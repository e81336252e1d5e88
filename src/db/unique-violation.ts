/** Whether `e` is a unique-key violation, as SQLite and PostgreSQL report one. */
export const isUniqueViolation = (e: unknown): boolean => /unique|duplicate key/i.test(String((e as Error)?.message ?? e));
