import { z } from 'zod';

/** Text shown to people, given per language; `en` is required, the others fall back to it. */
export const localizedText = z.union([
  z.string().min(1),
  z.object({ en: z.string().min(1), it: z.string().optional(), el: z.string().optional() }).strict(),
]);
export type LocalizedText = z.infer<typeof localizedText>;

export const populationIds = ['student', 'staff', 'school_staff', 'school', 'external'] as const;
export type PopulationId = (typeof populationIds)[number];

const populationSchema = z
  .object({
    /** How accounts of this population are activated. */
    activation: z.array(z.enum(['password', 'pin', 'registration', 'referent', 'automatic'])).default(['password']),
    /** Username pattern; placeholders {externalId}, {given}, {family}. */
    username: z.string().min(1).default('{externalId}'),
    /** Institutional address pattern; placeholders as above plus {domain}. Empty: no mailbox. */
    mailbox: z.string().optional(),
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

const serviceSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
    name: localizedText,
    protocol: z.enum(['oidc', 'saml']).default('oidc'),
    redirectUris: z.array(z.url()).default([]),
    postLogoutRedirectUris: z.array(z.url()).default([]),
    populations: z.array(z.enum(populationIds)).min(1),
    clientSecret: z.string().min(16).optional(),
    firstParty: z.boolean().default(true),
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
        defaultCountry: z.string().length(2).default('IT'),
        defaultLocale: z.enum(['it', 'en', 'el']).default('it'),
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
    services: z.array(serviceSchema).default([]),
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
