import { createHash } from 'node:crypto';
import type { PersonTable } from '../db/schema.js';
import { hashScheme } from '../auth/passwords.js';
import { populationIds, type InstitutionConfig } from '../config/institution-schema.js';
import { registrarStatuses, type RegistrarStatus } from '../domain/account-status.js';
import { amkaMatchesBirthDate, parseAmka } from '../domain/amka.js';
import { normaliseCodiceFiscale } from '../domain/codice-fiscale.js';
import { checkInsuranceNumber } from '../domain/insurance-number.js';
import { normaliseCountry } from '../domain/iso-country.js';
import {
  hasNameControl,
  normaliseDate,
  normaliseEmail,
  normaliseSchoolCode,
  normaliseSchoolYear,
} from '../domain/person-fields.js';
import { canTakeSms, toE164 } from '../domain/phone.js';
import { contractTypes, isImportColumn, type RowError } from './columns.js';

/** A valid, normalised registrar record, ready to store. */
export interface ImportRecord {
  population: string;
  externalId: string;
  givenName: string;
  familyName: string;
  birthDate: string | null;
  taxCode: string | null;
  amka: string | null;
  insuranceCountry: string | null;
  insuranceNumber: string | null;
  mobile: string | null;
  personalEmail: string | null;
  status: RegistrarStatus;
  orgUnit: string | null;
  role: string | null;
  contractType: string | null;
  entitlements: string[];
  extra: Record<string, string>;
  initialPasswordHash: string | null;
  /**
   * The fields the row did not give (an NDJSON key or a CSV column missing, not an empty value,
   * except for the status, which an empty value does not give either): a stored person keeps its
   * values for them (withStored). Undefined when the row gave them all.
   */
  absent?: AbsentField[] | undefined;
}

/** The fields a row may leave out, keeping what is stored. */
export type AbsentField =
  | 'givenName' | 'familyName' | 'birthDate' | 'taxCode' | 'amka' | 'insurance' | 'mobile' | 'personalEmail' | 'status'
  | 'orgUnit' | 'role' | 'contractType' | 'entitlements' | 'name' | 'schoolYear';

/**
 * Control characters (C0 but for trimmed edges, DEL, C1) and U+FFFD, which is what decoding leaves
 * of bytes that are not valid in the declared character set: never part of a registrar's value.
 */
const badText = /[\u0000-\u001f\u007f-\u009f\ufffd]/;

/**
 * What is wrong with an imported text value, if anything: U+FFFD (bytes that were not valid in
 * the file's character set) or a control character (NUL, a line break…) inside it.
 */
export function textProblem(v: string): 'field.invalid_encoding' | 'field.control_character' | null {
  if (!badText.test(v)) return null;
  return v.includes('\ufffd') ? 'field.invalid_encoding' : 'field.control_character';
}

export type Validated = { ok: true; record: ImportRecord } | { ok: false; externalId: string | null; errors: RowError[] };

/** A cell as text: absent, empty and null are all "not given". Objects and booleans are not text. */
function text(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? null : t;
}

/**
 * Validates and normalises one record. `population` is the one given for the whole import (query or
 * CLI option); a row may give its own only when none was given or when it says the same.
 * Field codes: field.required, field.invalid, field.too_long, field.unknown, email.invalid,
 * phone.invalid, date.invalid (also a birth date after `now`), tax_code.invalid, amka.invalid,
 * amka.birth_date_mismatch (an AMKA whose DDMMYY is not the row's birth date), insurance.invalid, country.invalid,
 * password_hash.unsupported, status.invalid, population.invalid, contract_type.invalid,
 * field.invalid_encoding (text that was not valid in the file's character set),
 * field.control_character (a NUL, a line break or another control character inside a value).
 * A field whose key (NDJSON) or column (CSV) is missing is listed in `absent`, not cleared; the
 * fields a new person needs are checked by missingForNew once it is known whether it is new.
 * An empty (or null) status is not given either: a registrar's blank cell must not enrol again a
 * record that ceased or is provisional; a new person gets the population's default.
 */
export function validateRecord(
  values: Record<string, unknown>,
  population: string | undefined,
  config: InstitutionConfig,
  now: Date = new Date(),
): Validated {
  const errors: RowError[] = [];
  const fail = (field: string, code: string) => {
    errors.push({ field, code });
    return null;
  };
  for (const key of Object.keys(values)) if (!isImportColumn(key)) fail(key, 'field.unknown');

  const get = (field: string, max = 200): string | null => {
    const v = text(values[field]);
    if (v === undefined) return fail(field, 'field.invalid');
    const problem = v === null ? null : textProblem(v);
    if (problem) return fail(field, problem);
    if (v !== null && v.length > max) return fail(field, 'field.too_long');
    return v;
  };
  const check = (field: string, v: string | null, normalise: (s: string) => string | null, code: string): string | null =>
    v === null ? null : (normalise(v) ?? fail(field, code));

  const rawId = get('externalId', 64);
  const externalId = rawId === null ? null : rawId;

  let pop = population ?? null;
  const rowPop = get('population', 40);
  if (rowPop !== null && pop !== null && rowPop !== pop) fail('population', 'population.invalid');
  pop ??= rowPop;
  if (pop === null) {
    if (!errors.some((e) => e.field === 'population')) fail('population', 'field.required');
  } else if (!(populationIds as readonly string[]).includes(pop) || !(pop in config.populations)) {
    if (!errors.some((e) => e.field === 'population')) fail('population', 'population.invalid');
  }
  const isSchool = pop === 'school';

  let id: string | null = null;
  if (externalId === null) {
    if (!errors.some((e) => e.field === 'externalId')) fail('externalId', 'field.required');
  } else if (isSchool) {
    id = normaliseSchoolCode(externalId) ?? fail('externalId', 'field.invalid');
  } else {
    id = /^[\p{L}\p{N}._@-]+$/u.test(externalId) ? externalId : fail('externalId', 'field.invalid');
  }

  const given = (field: string) => values[field] !== undefined;
  // Names are shown to others (referents' emails, services' claims): no invisible marks that
  // reorder or hide the text around them, as for a name typed in at registration.
  const nameOf = (field: string, max?: number): string | null => {
    const v = get(field, max);
    return v !== null && hasNameControl(v) ? fail(field, 'field.control_character') : v;
  };
  const name = nameOf('name');
  const schoolYearRaw = get('schoolYear', 20);
  let givenName = nameOf('givenName', 100);
  let familyName = nameOf('familyName', 100);
  const extra: Record<string, string> = {};
  if (isSchool) {
    if (name === null) {
      if ((given('name') || externalId === null) && !errors.some((e) => e.field === 'name')) fail('name', 'field.required');
    } else extra.name = name;
    const sy = check('schoolYear', schoolYearRaw, normaliseSchoolYear, 'field.invalid');
    if (sy !== null) extra.schoolYear = sy;
    // A school's record carries its name; the person columns take it so lists and claims show it.
    givenName ??= '';
    familyName ??= name ?? '';
  } else {
    if (name !== null) fail('name', 'field.invalid');
    if (schoolYearRaw !== null) fail('schoolYear', 'field.invalid');
    // Left out (no key, no column), a name keeps the stored one; given empty, or in a row naming
    // no one, it is missing.
    if (givenName === null && (given('givenName') || externalId === null) && !errors.some((e) => e.field === 'givenName')) fail('givenName', 'field.required');
    if (familyName === null && (given('familyName') || externalId === null) && !errors.some((e) => e.field === 'familyName')) fail('familyName', 'field.required');
  }

  const date = check('birthDate', get('birthDate', 10), normaliseDate, 'date.invalid');
  // Nobody is born after the import: such a date is a typo (or another column's value).
  const birthDate = date !== null && date > now.toISOString().slice(0, 10) ? fail('birthDate', 'date.invalid') : date;
  // People write these codes in groups (`BNC GLI 05D52 H501B`, `150105-23452`): the limit only
  // bounds the raw text, the validators check the length once spaces and dashes are gone.
  const taxCode = check('taxCode', get('taxCode', 40), normaliseCodiceFiscale, 'tax_code.invalid');
  const amka = check('amka', get('amka', 40), parseAmka, 'amka.invalid');
  // The activation flow refuses an AMKA that does not carry the birth date on file; the import
  // does not store one either.
  if (amka !== null && birthDate !== null && !amkaMatchesBirthDate(amka, birthDate)) fail('amka', 'amka.birth_date_mismatch');
  const insuranceCountry = check('insuranceCountry', get('insuranceCountry', 2), normaliseCountry, 'country.invalid');
  // The number is checked by its country's rule (the same check as the activation flow's).
  const insuranceNumberRaw = get('insuranceNumber', 40);
  let insuranceNumber: string | null = null;
  if (insuranceNumberRaw !== null && insuranceCountry !== null) {
    const checked = checkInsuranceNumber(insuranceCountry, insuranceNumberRaw, { anyCountry: true });
    insuranceNumber = checked.ok ? checked.number : fail('insuranceNumber', 'insurance.invalid');
  }
  // A card number means nothing without its country, and the other way round.
  const hasCountry = text(values.insuranceCountry) != null;
  const hasNumber = text(values.insuranceNumber) != null;
  if (hasCountry && !hasNumber) fail('insuranceNumber', 'field.required');
  if (hasNumber && !hasCountry) fail('insuranceCountry', 'field.required');
  const mobile = check('mobile', get('mobile', 32), (v) => toE164(v, config.institution.defaultCountry), 'phone.invalid');
  // The mobile is where activation PINs go by SMS: a landline there would take them nowhere.
  if (mobile !== null && !canTakeSms(mobile)) fail('mobile', 'phone.not_mobile');
  const personalEmail = check('personalEmail', get('personalEmail', 254), normaliseEmail, 'email.invalid');

  const statusRaw = get('status', 40);
  let status: RegistrarStatus = isSchool ? 'active' : 'enrolled';
  if (statusRaw !== null) {
    const s = statusRaw.toLowerCase();
    if ((registrarStatuses as readonly string[]).includes(s)) status = s as RegistrarStatus;
    else fail('status', 'status.invalid');
  }
  const orgUnit = get('orgUnit', 100);
  const role = get('role', 100);
  const contractType = check(
    'contractType',
    get('contractType', 40),
    (v) => ((contractTypes as readonly string[]).includes(v.toLowerCase()) ? v.toLowerCase() : null),
    'contract_type.invalid',
  );

  let entitlements: string[] = [];
  const ent = values.entitlements;
  const list = Array.isArray(ent) ? ent : typeof ent === 'string' ? ent.split(/[\s,]+/) : ent == null ? [] : null;
  if (list === null || list.some((e) => typeof e !== 'string' || (e !== '' && !/^[a-z0-9][a-z0-9._:-]{0,63}$/i.test(e)))) {
    fail('entitlements', 'field.invalid');
  } else {
    entitlements = [...new Set((list as string[]).filter((e) => e !== ''))].sort();
  }

  const hashRaw = get('initialPasswordHash', 512);
  const initialPasswordHash = hashRaw === null ? null : hashScheme(hashRaw) ? hashRaw : fail('initialPasswordHash', 'password_hash.unsupported');

  if (errors.length > 0 || id === null || pop === null) return { ok: false, externalId, errors };
  let absent: AbsentField[] | undefined;
  const leftOut = (f: AbsentField) => (absent ??= []).push(f);
  for (const f of optionalFields) if (!given(f)) leftOut(f);
  // Spreadsheets leave a status cell blank when they have nothing to say: the stored status stays.
  if (given('status') && statusRaw === null) leftOut('status');
  if (!given('insuranceCountry') && !given('insuranceNumber')) leftOut('insurance');
  if (!isSchool) {
    if (!given('givenName')) leftOut('givenName');
    if (!given('familyName')) leftOut('familyName');
  } else {
    if (!given('name')) leftOut('name');
    if (!given('name') && !given('familyName')) leftOut('familyName');
    if (!given('schoolYear')) leftOut('schoolYear');
  }
  return {
    ok: true,
    record: {
      population: pop,
      externalId: id,
      givenName: givenName ?? '',
      familyName: familyName ?? '',
      birthDate,
      taxCode,
      amka,
      insuranceCountry,
      insuranceNumber,
      mobile,
      personalEmail,
      status,
      orgUnit,
      role,
      contractType,
      entitlements,
      extra,
      initialPasswordHash,
      ...(absent ? { absent } : {}),
    },
  };
}

const optionalFields = ['birthDate', 'taxCode', 'amka', 'mobile', 'personalEmail', 'status', 'orgUnit', 'role', 'contractType', 'entitlements'] as const;

/** What a new person lacks when its row left out fields it cannot be created without. */
export function missingForNew(r: ImportRecord): RowError[] {
  const need: AbsentField[] = r.population === 'school' ? ['name'] : ['givenName', 'familyName'];
  return need.filter((f) => r.absent?.includes(f)).map((field) => ({ field, code: 'field.required' }));
}

/**
 * What is wrong with a partial row once completed from the stored person (`completed`, of
 * withStored): an AMKA it gives must carry the stored birth date, a birth date it gives the stored
 * AMKA's. A row giving both was checked by validateRecord; one giving neither changes neither.
 */
export function conflictsWithStored(r: ImportRecord, completed: ImportRecord): RowError[] {
  const absent = r.absent ?? [];
  if (absent.includes('amka') === absent.includes('birthDate')) return [];
  const { amka, birthDate } = completed;
  return amka !== null && birthDate !== null && !amkaMatchesBirthDate(amka, birthDate) ? [{ field: 'amka', code: 'amka.birth_date_mismatch' }] : [];
}

/** The stored person columns a partial record is completed from (persons). */
export type StoredPerson = Pick<
  PersonTable,
  | 'given_name'
  | 'family_name'
  | 'birth_date'
  | 'tax_code'
  | 'amka'
  | 'insurance_country'
  | 'insurance_number'
  | 'mobile'
  | 'personal_email'
  | 'registrar_status'
  | 'org_unit'
  | 'role'
  | 'contract_type'
  | 'entitlements'
  | 'extra'
>;

/**
 * The record a partial row means for a stored person: the fields it left out keep their stored
 * values, the fields it gave (empty included, which clears) replace them.
 */
export function withStored(r: ImportRecord, p: StoredPerson): ImportRecord {
  const absent = r.absent ?? [];
  const keep = <T>(f: AbsentField, given: T, stored: T): T => (absent.includes(f) ? stored : given);
  let extra = r.extra;
  if (absent.includes('name') || absent.includes('schoolYear')) {
    const storedExtra = JSON.parse(p.extra) as Record<string, string>;
    const name = keep('name', r.extra.name, storedExtra.name);
    const schoolYear = keep('schoolYear', r.extra.schoolYear, storedExtra.schoolYear);
    extra = {};
    if (name !== undefined) extra.name = name;
    if (schoolYear !== undefined) extra.schoolYear = schoolYear;
  }
  return {
    population: r.population,
    externalId: r.externalId,
    givenName: keep('givenName', r.givenName, p.given_name),
    familyName: keep('familyName', r.familyName, p.family_name),
    birthDate: keep('birthDate', r.birthDate, p.birth_date),
    taxCode: keep('taxCode', r.taxCode, p.tax_code),
    amka: keep('amka', r.amka, p.amka),
    insuranceCountry: keep('insurance', r.insuranceCountry, p.insurance_country),
    insuranceNumber: keep('insurance', r.insuranceNumber, p.insurance_number),
    mobile: keep('mobile', r.mobile, p.mobile),
    personalEmail: keep('personalEmail', r.personalEmail, p.personal_email),
    status: keep('status', r.status, p.registrar_status as RegistrarStatus),
    orgUnit: keep('orgUnit', r.orgUnit, p.org_unit),
    role: keep('role', r.role, p.role),
    contractType: keep('contractType', r.contractType, p.contract_type),
    entitlements: absent.includes('entitlements') ? (JSON.parse(p.entitlements) as string[]) : r.entitlements,
    extra,
    initialPasswordHash: r.initialPasswordHash,
  };
}

/**
 * The hash of a normalised record (persons.source_hash): equal hashes mean the registrar sent the
 * same data again, so the row is reported unchanged and nothing is written.
 */
export function sourceHash(r: ImportRecord): string {
  const ordered = [
    r.population, r.externalId, r.givenName, r.familyName, r.birthDate, r.taxCode, r.amka, r.insuranceCountry,
    r.insuranceNumber, r.mobile, r.personalEmail, r.status, r.orgUnit, r.role, r.contractType, r.entitlements,
    Object.entries(r.extra).sort(([a], [b]) => (a < b ? -1 : 1)), r.initialPasswordHash,
  ];
  return createHash('sha256').update(JSON.stringify(ordered)).digest('base64url');
}
