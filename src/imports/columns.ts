/** The import columns of API.md ("Import columns"): CSV header names and NDJSON keys. */
export const importColumns = [
  'externalId',
  'givenName',
  'familyName',
  'birthDate',
  'taxCode',
  'amka',
  'insuranceCountry',
  'insuranceNumber',
  'mobile',
  'personalEmail',
  'status',
  'orgUnit',
  'role',
  'contractType',
  'entitlements',
  'initialPasswordHash',
  'population',
  'name',
  'schoolYear',
] as const;
export type ImportColumn = (typeof importColumns)[number];

const known = new Set<string>(importColumns);
export const isImportColumn = (name: string): name is ImportColumn => known.has(name);

export const contractTypes = ['permanent', 'fixed_term', 'short_term_substitute'] as const;

/** One problem of a row: the column (or `row` for the row as a whole) and a field code. */
export interface RowError {
  field: string;
  code: string;
}

/** A record as read from the file, before validation; `row` counts records from 1 (header excluded). */
export interface SourceRow {
  row: number;
  values: Record<string, unknown>;
  /** Problems found while reading (a malformed line, a wrong number of cells, repeated headers). */
  errors?: RowError[];
}

/** The report of API.md: the same from the admin API, the CLI (`--json`) and a dry run. */
export interface ImportReport {
  dryRun: boolean;
  created: number;
  updated: number;
  unchanged: number;
  /**
   * Rows of records Tessera purged after they ended (accounts/purged-records.ts) whose status
   * still says they ended, or says nothing: skipped, the person is not created again. Present only
   * when there were any.
   */
  skippedPurged?: number;
  rejected: Array<{ row: number; externalId: string | null; errors: RowError[] }>;
}
