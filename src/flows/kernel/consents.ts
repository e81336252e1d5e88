import type { ConsentConfig, PrivacyNoticeConfig } from '../../config/institution-schema.js';
import { yesOrNo } from './input.js';
import { translate, type Locale } from '../../i18n/index.js';
import { localized } from '../../views/localized.js';
import type { FieldSpec } from './types.js';

/**
 * The consents a step offers (activation by PIN, registration): read from a form or a JSON body,
 * checked, and described to the page and to apps. Each choice is recorded with the version of the
 * text the person was shown (accounts/consent-records.ts), which the flow keeps from the moment
 * it shows the step (keepShownVersions, consentsAsShown).
 */

/** The id under which the acceptance of the institution's privacy notice is recorded. */
export const PRIVACY_CONSENT = 'privacy';

/** A consent as a step shows it: its text in the page's language, and its version. */
export interface ShownConsent {
  id: string;
  text: string;
  version: string;
  required: boolean;
  /** The notice the consent refers to, in the page's language. */
  notice?: { url: string; version: string };
}

/** The institution's consents in `locale`, with their versions (and the notice they refer to). */
export function shownConsents(list: readonly ConsentConfig[], locale: Locale, notice?: PrivacyNoticeConfig): ShownConsent[] {
  const n = notice && noticeIn(notice, locale);
  return list.map((c) => ({ id: c.id, text: localized(c.text, locale), version: c.version, required: c.required, ...(n ? { notice: n } : {}) }));
}

/** The privacy notice in `locale`: its address in that language (English when it has none) and its version. */
export const noticeIn = (notice: PrivacyNoticeConfig, locale: Locale) => ({ url: localized(notice.url, locale), version: notice.version });

/** The consent checkboxes are named `consents.<id>` in forms; the API sends an object. */
export const consentField = (id: string) => `consents.${id}`;

const consentObject = (input: Record<string, unknown>): Record<string, unknown> =>
  (typeof input.consents === 'object' && input.consents !== null ? input.consents : {}) as Record<string, unknown>;

const truthy = (v: unknown) => yesOrNo(v) === true;

/**
 * Consents given a value that says neither yes nor no (`"yes"`, `1`, an object): each is an invalid
 * field, never read as a refusal the person did not make.
 */
function unreadableConsents(input: Record<string, unknown>, ids: string[]): string[] {
  const obj = consentObject(input);
  const unreadable = (v: unknown) => yesOrNo(v) === null;
  return ids.filter((id) => unreadable(obj[id]) || unreadable(input[consentField(id)]));
}

/**
 * Consents named in the input that the institution does not ask for (a mistyped id): each is an
 * invalid field, so a choice the person believes recorded is never silently dropped.
 */
export function unknownConsents(input: Record<string, unknown>, ids: string[]): string[] {
  const obj = consentObject(input);
  const named = [...Object.keys(obj), ...Object.keys(input).filter((k) => k.startsWith('consents.')).map((k) => k.slice('consents.'.length))];
  return [...new Set(named.filter((id) => !ids.includes(id)))];
}

/**
 * Reads the consents from a form (`consents.<id>`) or a JSON object (`consents: {id: bool}`).
 * `bare`: the consent that a plain `consents` value (a form's `consents=true`, JSON `true`) gives.
 */
export function readConsents(input: Record<string, unknown>, ids: string[], bare?: string): Record<string, boolean> {
  const obj = consentObject(input);
  return Object.fromEntries(ids.map((id) => [id, truthy(obj[id]) || truthy(input[consentField(id)]) || (id === bare && truthy(input.consents))]));
}

/**
 * The field codes of the consents in `input`: `missing(id)` for each required one not given,
 * `field.invalid` for each the institution does not ask for or given a value that is not yes or no. `fieldOf` names a consent's field.
 */
export function consentProblems(
  input: Record<string, unknown>,
  consents: readonly ShownConsent[],
  choices: Record<string, boolean>,
  missing: (id: string) => string,
  fieldOf: (id: string) => string = consentField,
): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const c of consents) if (c.required && !choices[c.id]) fields[fieldOf(c.id)] = missing(c.id);
  const ids = consents.map((c) => c.id);
  for (const id of unreadableConsents(input, ids)) fields[fieldOf(id)] = 'field.invalid';
  for (const id of unknownConsents(input, ids)) fields[consentField(id)] = 'field.invalid';
  return fields;
}

/**
 * What a consent step showed, kept with the flow (server-side) so that each choice is recorded
 * with the version the person was shown, not the one configured when the step is sent: the
 * versions shown, by consent id. The step's flow keeps them whenever the step is described
 * (FlowDefinition.remember → keepShownVersions) and reads them when it is sent (consentsAsShown).
 */
export type ShownVersions = Record<string, string>;

/** The data of a flow with a consent step: the versions that step showed, while it is the flow's state. */
export interface KeepsShownConsents {
  shownConsents?: ShownVersions;
}

const versionsOf = (consents: readonly Pick<ShownConsent, 'id' | 'version'>[]): ShownVersions => Object.fromEntries(consents.map((c) => [c.id, c.version]));

function sameVersions(a: ShownVersions, b: ShownVersions): boolean {
  const ids = Object.keys(a);
  return ids.length === Object.keys(b).length && ids.every((id) => Object.hasOwn(b, id) && a[id] === b[id]);
}

/**
 * `data` keeping the versions of `consents`, the ones the step shows now, or null when it keeps
 * exactly these already: what a consent step's FlowDefinition.remember answers.
 */
export function keepShownVersions<D extends KeepsShownConsents>(data: D, consents: readonly Pick<ShownConsent, 'id' | 'version'>[]): D | null {
  const now = versionsOf(consents);
  return data.shownConsents && sameVersions(data.shownConsents, now) ? null : { ...data, shownConsents: now };
}

/** `data` without the versions shown (the step was taken: they are recorded). */
export function dropShownVersions<D extends KeepsShownConsents>(data: D): D {
  const { shownConsents: _, ...rest } = data;
  return rest as D;
}

/**
 * The consents offered now, as the person was shown them (their versions from the flow's data,
 * what recordConsents records), and the field code `consent.notice_changed` (`fieldOf` names the
 * field) on each one whose version is not the one shown, or that was not shown: the institution
 * changed the notice or the text between showing the step and its sending, so the step is refused
 * (nothing recorded) and shown again with the new versions, which the flow then keeps. A flow
 * that kept no versions (made before they were kept) is taken to have shown the current ones.
 */
export function consentsAsShown(
  data: KeepsShownConsents,
  consents: readonly ShownConsent[],
  fieldOf: (id: string) => string = consentField,
): { consents: ShownConsent[]; changed: Record<string, string> } {
  const shown = data.shownConsents ?? versionsOf(consents);
  const changed: Record<string, string> = {};
  for (const c of consents) if (!Object.hasOwn(shown, c.id) || shown[c.id] !== c.version) changed[fieldOf(c.id)] = 'consent.notice_changed';
  return { consents: consents.map((c) => ({ ...c, version: shown[c.id] ?? c.version })), changed };
}

/**
 * The checkbox of each consent: its text as the label, whether it is required, and (under
 * `consent`) its id, the version of its text and the notice it refers to, for an app to show and
 * for the page to link. `fieldOf` names a field otherwise than `consents.<id>`.
 */
export function consentFieldSpecs(consents: readonly ShownConsent[], locale: Locale, fieldOf: (id: string) => string = consentField): FieldSpec[] {
  return consents.map((c) => ({
    name: fieldOf(c.id),
    type: 'checkbox',
    required: c.required,
    labelText: c.text,
    consent: {
      id: c.id,
      version: c.version,
      ...(c.notice ? { notice: { ...c.notice, text: translate(locale, 'consent.noticeLink', { version: c.notice.version }) } } : {}),
    },
  }));
}
