import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { spidSchema } from './spid-schema.js';
import { normaliseCountry } from '../domain/iso-country.js';
import { defaultMailboxesConfig, mailboxesSchema } from '../mailboxes/config.js';

/** Text shown to people, given per language; `en` is required, the others fall back to it. */
export const localizedText = z.union([
  z.string().min(1),
  z.object({ en: z.string().min(1), it: z.string().optional(), el: z.string().optional() }).strict(),
]);
export type LocalizedText = z.infer<typeof localizedText>;

/** An http(s) address that people open (javascript: and the like would run in the portal's page). */
const webAddress = z.url({ protocol: /^https?$/, error: 'must be an http or https address' });

/** An address given per language as localizedText is (`en` required, the others fall back to it). */
const localizedAddress = z.union([webAddress, z.object({ en: webAddress, it: webAddress.optional(), el: webAddress.optional() }).strict()], {
  error: 'must be an http or https address, or one per language: { en: …, it: …, el: … } (en required)',
});

export const populationIds = ['student', 'staff', 'school_staff', 'school', 'external'] as const;
export type PopulationId = (typeof populationIds)[number];

/**
 * A username or address pattern: its placeholders are the ones renderPattern fills in (another
 * would be kept as it is, giving every account the same `{…}` name with a number).
 */
const addressPattern = z.string().superRefine((pattern, issue) => {
  for (const [placeholder, name] of pattern.matchAll(/\{([^}]*)\}/g)) {
    if (!['externalId', 'given', 'family', 'domain'].includes(name!)) {
      issue.addIssue({ code: 'custom', message: `has an unknown placeholder ${placeholder} (use {externalId}, {given}, {family}, {domain})` });
    }
  }
});

const populationSchema = z
  .object({
    /** How accounts of this population are activated. */
    activation: z.array(z.enum(['password', 'pin', 'registration', 'referent', 'automatic'])).default(['password']),
    /** Username pattern; placeholders {externalId}, {given}, {family}. */
    username: addressPattern.min(1).default('{externalId}'),
    /** Institutional address pattern; placeholders as above plus {domain}. Empty: no mailbox. */
    mailbox: addressPattern.optional(),
    mailQuotaGb: z.number().positive().optional(),
    label: localizedText.optional(),
  })
  .strict();
export type PopulationConfig = z.infer<typeof populationSchema>;

const passwordPolicySchema = z
  .object({
    minLength: z.number().int().min(6).max(128).default(8),
    maxLength: z.number().int().min(16).max(1024).default(256),
    requireUppercase: z.boolean().default(true),
    requireLowercase: z.boolean().default(false),
    requireDigit: z.boolean().default(true),
    requireSymbol: z.boolean().default(false),
    blockCommon: z.boolean().default(true),
    forbidUsername: z.boolean().default(true),
  })
  .strict();
export type PasswordPolicy = z.infer<typeof passwordPolicySchema>;

const loginSchema = z
  .object({
    /** Wrong passwords allowed per account before a temporary lock. */
    maxFailuresPerAccount: z.number().int().min(1).default(5),
    /** Wrong passwords allowed per client address in one window. */
    maxFailuresPerAddress: z.number().int().min(1).default(30),
    failureWindowMinutes: z.number().int().min(1).default(15),
    lockMinutes: z.number().int().min(1).default(15),
    sessionHours: z.number().positive().default(12),
  })
  .strict();

const consentSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be lowercase letters, digits and _'),
    text: localizedText,
    /** Recorded with each choice, so a later change of the text is visible in the records. */
    version: z.string().min(1).max(40),
    /** A required consent must be given to activate. */
    required: z.boolean().default(false),
  })
  .strict();
export type ConsentConfig = z.infer<typeof consentSchema>;

/** The consents of a step: each id once (a choice is recorded under its id). */
const consentList = z
  .array(consentSchema)
  .default([])
  .superRefine((list, c) => {
    list.forEach((consent, i) => {
      if (list.findIndex((other) => other.id === consent.id) < i) c.addIssue({ code: 'custom', path: [i, 'id'], message: `repeats the consent id ${consent.id}` });
    });
  });

/**
 * The privacy notice a step links to (GDPR art. 13): where to read it, per language, and its
 * version, recorded with the person's acceptance (art. 7(1)) under the consent id `privacy`.
 */
const privacyNoticeSchema = z
  .object({
    url: localizedAddress,
    version: z.string().min(1).max(40),
  })
  .strict();
export type PrivacyNoticeConfig = z.infer<typeof privacyNoticeSchema>;

const pinDefaults = { ttlMinutes: 10, maxAttempts: 5, resendCooldownSeconds: 60, maxPerHour: 5 };
const activationSchema = z
  .object({
    pin: z
      .object({
        /** How long a PIN is valid. */
        ttlMinutes: z.number().int().min(1).max(60).default(pinDefaults.ttlMinutes),
        /** Wrong tries per PIN before it is dead. */
        maxAttempts: z.number().int().min(1).max(20).default(pinDefaults.maxAttempts),
        /** Seconds between two PINs of one flow. */
        resendCooldownSeconds: z.number().int().min(0).max(3600).default(pinDefaults.resendCooldownSeconds),
        /** PINs per record (or per flow, when nothing matched) in one hour. */
        maxPerHour: z.number().int().min(1).max(100).default(pinDefaults.maxPerHour),
      })
      .strict()
      .default(pinDefaults),
    /** Answer an unknown contact exactly like a known one (and send nothing). */
    enumerationSafe: z.boolean().default(false),
    /** The privacy choices offered before the password step. */
    consents: consentList,
    /** Text shown with the data on file, before the person confirms them. */
    instructions: localizedText.optional(),
  })
  .strict();
export type ActivationConfig = z.infer<typeof activationSchema>;

/**
 * Where the provider may send a person back: an http(s) address without a fragment, as OpenID
 * Connect requires (the provider would refuse any other at every sign-in).
 */
export const returnUri = z
  .url({ protocol: /^https?$/, error: 'must be an http or https address' })
  .refine((u) => !u.includes('#'), 'must not contain a fragment (#)');

/** A private-use URI scheme named after a domain (RFC 8252 §7.1), as `edu.unidemo.app:`. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:/i;
const LOOPBACKS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether an address Tessera sends a person back to (with a code, or after signing out) travels in
 * clear over the network: plain http to a host other than a loopback one. OAuth 2.0 Security BCP
 * (RFC 9700 §2.1, §4.1.1) and OpenID Connect want https for a web service; http stays for
 * loopback addresses (localhost, 127.0.0.1, [::1]): a service under development, an app's
 * loopback redirect (RFC 8252 §7.3). Refused when NODE_ENV=production (the institution's file
 * stops the start, the admin API answers `uri.https_required`); elsewhere a test or staging
 * service may use one, and the start warns about each in the file (configWarnings).
 */
export function isCleartextRedirect(uri: string): boolean {
  if (!URL.canParse(uri)) return false;
  const { protocol, hostname } = new URL(uri);
  return protocol === 'http:' && !LOOPBACKS.has(hostname);
}
/** The field code of a cleartext redirect address in the admin API. */
export const CLEARTEXT_REDIRECT = 'uri.https_required';
export const cleartextRedirectText = 'must be an https address: http only on a loopback address (localhost, 127.0.0.1, [::1]) for development';

/**
 * The addresses of a service that would travel in clear (isCleartextRedirect), each with the path
 * of its key: where people are sent back (redirect and post-logout addresses), and where Tessera
 * itself fetches the service's keys (`jwksUri`: keys read in clear could be swapped for an
 * attacker's, who could then authenticate as the service) and posts its logout tokens
 * (`backchannelLogoutUri`).
 */
export function cleartextAddresses(s: {
  redirectUris: readonly string[];
  postLogoutRedirectUris: readonly string[];
  jwksUri?: string | undefined;
  backchannelLogoutUri?: string | undefined;
}): Array<{ path: Array<string | number>; uri: string }> {
  const lists = (['redirectUris', 'postLogoutRedirectUris'] as const).flatMap((key) => s[key].map((uri, i) => ({ path: [key, i], uri })));
  const single = (['jwksUri', 'backchannelLogoutUri'] as const).flatMap((key) => (s[key] ? [{ path: [key], uri: s[key] }] : []));
  return [...lists, ...single].filter((a) => isCleartextRedirect(a.uri));
}

/** Whether a redirect URI is an app's private-use scheme (a native app), not a web address. */
export const isAppRedirect = (uri: string): boolean => !/^https?:/i.test(uri) && PRIVATE_USE_SCHEME.test(uri);

/**
 * Where the provider may send a person back after signing in: a return address, or, for an app
 * on a phone or computer, a private-use URI scheme named after a domain its makers own (RFC 8252
 * §7.1, as `edu.unidemo.app:/oauth2redirect`), without a fragment.
 */
export const redirectUri = z
  .string()
  .refine((u) => (isAppRedirect(u) ? URL.canParse(u) : returnUri.safeParse(u).success), 'must be an http or https address, or an app scheme named after a domain (edu.example.app:/callback)')
  .refine((u) => !u.includes('#'), 'must not contain a fragment (#)');

/**
 * What the provider requires of a native app (a service with an app scheme among its redirect
 * URIs, RFC 8252): it is a public client, its http addresses are loopback ones (any port) and its
 * https ones are not. Each problem with the path of the field it is about.
 */
export function appRedirectIssues(s: { redirectUris: string[]; tokenEndpointAuthMethod: string }): Array<{ path: Array<string | number>; message: string }> {
  if (!s.redirectUris.some(isAppRedirect)) return [];
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  if (s.tokenEndpointAuthMethod !== 'none') {
    issues.push({ path: ['tokenEndpointAuthMethod'], message: 'an app scheme among the redirect URIs needs a public client (tokenEndpointAuthMethod none): an app keeps no secret' });
  }
  s.redirectUris.forEach((u, i) => {
    if (isAppRedirect(u) || !URL.canParse(u)) return;
    const { protocol, hostname } = new URL(u);
    if (protocol === 'http:' && !LOOPBACKS.has(hostname)) issues.push({ path: ['redirectUris', i], message: 'an app may use http only on a loopback address (127.0.0.1)' });
    if (protocol === 'https:' && LOOPBACKS.has(hostname)) issues.push({ path: ['redirectUris', i], message: 'an app may not use https on a loopback address' });
  });
  return issues;
}

/** A campus service (OpenID Connect client): in the institution's file or registered by the admin API. */
export const serviceSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
    name: localizedText,
    protocol: z.enum(['oidc', 'saml']).default('oidc'),
    redirectUris: z.array(redirectUri).default([]),
    postLogoutRedirectUris: z.array(returnUri).default([]),
    populations: z.array(z.enum(populationIds)).min(1),
    clientSecret: z.string().min(16).optional(),
    firstParty: z.boolean().default(true),
    /**
     * How the service authenticates at the token endpoint; private_key_jwt needs jwksUri. `none`: a
     * public client (a mobile or single-page app) that keeps no secret, protected by PKCE alone.
     */
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'private_key_jwt', 'none']).default('client_secret_basic'),
    jwksUri: returnUri.optional(),
    /** Where Tessera posts a logout token when the person signs out (OpenID Connect back-channel logout). */
    backchannelLogoutUri: returnUri.optional(),
  })
  .strict();

/**
 * A service of the institution's file: everything the provider needs to sign people in to it,
 * checked at start (a service that could never sign anyone in stops the start, naming the key).
 */
const configServiceSchema = serviceSchema.superRefine((s, c) => {
  // Tessera is not a SAML identity provider yet: such a service would be accepted and then never
  // offered a sign-in (nor listed), so the start stops instead of ignoring it.
  if (s.protocol === 'saml') {
    c.addIssue({ code: 'custom', path: ['protocol'], message: 'saml is not supported yet: Tessera signs campus services in with OpenID Connect (protocol: oidc)' });
    return;
  }
  if (s.redirectUris.length === 0) c.addIssue({ code: 'custom', path: ['redirectUris'], message: 'an OpenID Connect service needs at least one redirect URI' });
  if (s.tokenEndpointAuthMethod === 'client_secret_basic' && !s.clientSecret) {
    c.addIssue({ code: 'custom', path: ['clientSecret'], message: 'required with tokenEndpointAuthMethod client_secret_basic (at least 16 characters)' });
  }
  if (s.tokenEndpointAuthMethod === 'none' && s.clientSecret) {
    c.addIssue({ code: 'custom', path: ['clientSecret'], message: 'a public client (tokenEndpointAuthMethod none) has no client secret' });
  }
  if (s.tokenEndpointAuthMethod === 'private_key_jwt' && !s.jwksUri) {
    c.addIssue({ code: 'custom', path: ['jwksUri'], message: 'required with tokenEndpointAuthMethod private_key_jwt' });
  }
  for (const i of appRedirectIssues(s)) c.addIssue({ code: 'custom', ...i });
});

const registrationSchema = z
  .object({
    /** Hours the emailed activation link (and so the pending registration) stays valid. */
    linkLifetimeHours: z.number().positive().max(24 * 30).default(24),
    /** Registrant types that may no longer register, from `organisationsClosedSince` on. */
    closedCategories: z.array(z.enum(['institution', 'school', 'company'])).default(['institution', 'school', 'company']),
    organisationsClosedSince: z.iso.date('must be a date such as 2015-03-01').optional(),
    /** The institution's own words for those who try (e.g. where businesses go instead). */
    closedMessage: localizedText.optional(),
    /** Seconds between two activation emails of one registration (resend and change of address alike). */
    resendIntervalSeconds: z.number().int().min(0).default(60),
    /** Activation emails one registration may cause in all: the first, resends and changes of address. */
    emailsPerRegistration: z.number().int().min(1).max(50).default(5),
    /** New registrations (each sends an email) accepted from one client address per hour; 0: no limit. */
    registrationsPerAddressPerHour: z.number().int().min(0).default(10),
    /** The notice linked from the privacy checkbox (a start without one, where people register, warns). */
    privacyNotice: privacyNoticeSchema.optional(),
    /** Further choices offered with the privacy checkbox, as activation's (`privacy` is the notice's own id). */
    consents: consentList.superRefine((list, c) => {
      list.forEach((consent, i) => {
        if (consent.id === 'privacy') c.addIssue({ code: 'custom', path: [i, 'id'], message: 'is the privacy notice’s own id (privacyNotice): give this consent another id' });
      });
    }),
  })
  .strict();

const lifecycleSchema = z
  .object({
    /** Registrations never used are cancelled (unimi: registered up to 31 December, unused the following year). */
    purgeUnused: z
      .object({
        enabled: z.boolean().default(true),
        populations: z.array(z.enum(populationIds)).default(['external']),
        /** Days before the cancellation that a warning email goes out; 0: none. */
        warnDaysBefore: z.number().int().min(0).max(364).default(30),
      })
      .strict()
      .default({ enabled: true, populations: ['external'], warnDaysBefore: 30 }),
    /** Days an account of a ceased record stays suspended before it is purged. */
    ceasedGraceDays: z.number().int().min(0).default(180),
    /** Accounts per transaction when jobs change or delete many rows (purge-unused sizes its batches to about 15 ms of work each, up to this many). */
    batchSize: z.number().int().min(1).max(5000).default(1000),
  })
  .strict();

/** An IANA time zone name. */
const timeZoneName = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be a time zone such as Europe/Rome or Europe/Athens');

const cronExpression = z.string().refine((v) => {
  try {
    CronExpressionParser.parse(v);
    return true;
  } catch {
    return false;
  }
}, 'must be a cron expression such as "0 3 * * *"');

const jobsSchema = z
  .object({
    /** When each lifecycle job runs (cron expressions); a job not listed runs only on demand. */
    schedule: z.partialRecord(z.enum(['expire-unverified', 'purge-unused', 'expire-ceased', 'mailbox-reminders', 'school-mailboxes']), cronExpression).default({}),
    /** The time zone of the cron expressions; the institution's `timeZone` when not given. */
    timezone: timeZoneName.optional(),
  })
  .strict();

const targetId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes');

/** A directory (OpenLDAP and compatible) that receives accounts (docs/provisioning.md). */
const ldapTargetSchema = z
  .object({
    id: targetId,
    type: z.literal('ldap'),
    populations: z.array(z.enum(populationIds)).min(1),
    url: z.string().regex(/^ldaps?:\/\//, 'must start with ldap:// or ldaps://'),
    bindDn: z.string().min(1),
    /** Name of the environment variable holding the bind password (kept out of the file). */
    bindPasswordEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/),
    baseDn: z.string().min(1),
    /** Attribute carrying the mailbox quota, and the object class that allows it. */
    quotaAttribute: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/).default('tesseraMailQuota'),
    quotaUnit: z.enum(['bytes', 'kilobytes', 'megabytes', 'gigabytes']).default('bytes'),
    objectClasses: z.array(z.string().min(1)).default(['tesseraAccount']),
    /** How a suspension makes binds fail: the ppolicy overlay's lock, or removing the password. */
    lockWith: z.enum(['ppolicy', 'remove-password']).default('ppolicy'),
  })
  .strict();

/** Google Workspace through the Admin SDK Directory API with a service-account key. */
const googleTargetSchema = z
  .object({
    id: targetId,
    type: z.literal('google'),
    populations: z.array(z.enum(populationIds)).min(1),
    /** Path of the service account's JSON key (client_email, private_key, token_uri). */
    keyFile: z.string().min(1),
    /** The administrator the service account acts for (domain-wide delegation). */
    adminEmail: z.email(),
    customer: z.string().min(1).default('my_customer'),
    /** Organisational unit per population, e.g. { student: '/Studenti' }; '/' when absent. */
    orgUnits: z.partialRecord(z.enum(populationIds), z.string().regex(/^\//)).default({}),
    /** Overrides for the API's addresses (contract tests, proxies). */
    directoryUrl: z.url().default('https://admin.googleapis.com'),
    tokenUrl: z.url().optional(),
  })
  .strict();

export const provisioningTargetSchema = z.discriminatedUnion('type', [ldapTargetSchema, googleTargetSchema]);
export type ProvisioningTargetConfig = z.infer<typeof provisioningTargetSchema>;
export type LdapTargetConfig = z.infer<typeof ldapTargetSchema>;
export type GoogleTargetConfig = z.infer<typeof googleTargetSchema>;

export const institutionSchema = z
  .object({
    institution: z
      .object({
        id: z.string().regex(/^[a-z0-9-]+$/),
        name: localizedText,
        shortName: z.string().optional(),
        domain: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a domain name such as uni.example.org'),
        /** Phone numbers without a prefix are read as of this country: a code that exists (GB, not UK). */
        defaultCountry: z
          .string()
          .refine((c) => normaliseCountry(c) !== null, 'must be an ISO 3166-1 country code such as IT or GR')
          .default('IT'),
        defaultLocale: z.enum(['it', 'en', 'el']).default('it'),
        /** The institution's time zone (IANA): times shown to people (a lock's end, a link's deadline) are in it. */
        timeZone: timeZoneName.default('Europe/Rome'),
        helpdeskEmail: z.email().optional(),
        branding: z
          .object({
            primaryColor: z.string().regex(/^#[0-9a-fA-F]{6}$/).default('#7a1f2b'),
            logoUrl: z.string().optional(),
          })
          .strict()
          .default({ primaryColor: '#7a1f2b' }),
      })
      .strict(),
    populations: z.partialRecord(z.enum(populationIds), populationSchema).default({}),
    passwordPolicy: passwordPolicySchema.default(passwordPolicySchema.parse({})),
    login: loginSchema.default(loginSchema.parse({})),
    flows: z
      .object({ lifetimeMinutes: z.number().int().min(1).max(24 * 60).default(30) })
      .strict()
      .default({ lifetimeMinutes: 30 }),
    activation: activationSchema.default(activationSchema.parse({})),
    services: z.array(configServiceSchema).default([]),
    mailboxes: mailboxesSchema.default(defaultMailboxesConfig),
    registration: registrationSchema.default(registrationSchema.parse({})),
    lifecycle: lifecycleSchema.default(lifecycleSchema.parse({})),
    jobs: jobsSchema.default(jobsSchema.parse({})),
    spid: spidSchema.optional(),
    provisioning: z
      .object({ targets: z.array(provisioningTargetSchema).default([]) })
      .strict()
      .default({ targets: [] })
      .refine((p) => new Set(p.targets.map((t) => t.id)).size === p.targets.length, 'target ids must be unique'),
    demo: z
      .object({ seed: z.boolean().default(false) })
      .strict()
      .default({ seed: false }),
  })
  .strict();

export type InstitutionConfig = z.infer<typeof institutionSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
