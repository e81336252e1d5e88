import { z } from 'zod';

/** The attributes a SPID service provider may request (AgID technical rules, attribute table). */
export const spidAttributeNames = [
  'spidCode',
  'name',
  'familyName',
  'placeOfBirth',
  'countyOfBirth',
  'dateOfBirth',
  'gender',
  'companyName',
  'registeredOffice',
  'fiscalNumber',
  'ivaCode',
  'idCard',
  'mobilePhone',
  'email',
  'address',
  'expirationDate',
  'digitalAddress',
  'domicileStreetAddress',
  'domicilePostalCode',
  'domicileMunicipality',
  'domicileProvince',
  'domicileNation',
] as const;
export type SpidAttributeName = (typeof spidAttributeNames)[number];

export const spidLevels = ['SpidL1', 'SpidL2', 'SpidL3'] as const;
export type SpidLevel = (typeof spidLevels)[number];

/**
 * The optional `spid:` section of the institution's file: the service provider's identity, what
 * it asks for, and where the identity providers' metadata come from.
 */
export const spidSchema = z
  .object({
    /** The SP's entityID; PUBLIC_URL when absent. */
    entityId: z.url().optional(),
    /** The level asked for; `minimum` accepts a higher one, `exact` only this one. */
    level: z.enum(spidLevels).default('SpidL2'),
    comparison: z.enum(['minimum', 'exact']).default('minimum'),
    /** Attributes requested (AttributeConsumingService index 0); fiscalNumber is always needed. */
    attributes: z
      .array(z.enum(spidAttributeNames))
      .min(1)
      .default(['name', 'familyName', 'fiscalNumber', 'dateOfBirth', 'email'])
      .refine((a) => a.includes('fiscalNumber'), 'must include fiscalNumber (the link key)'),
    serviceName: z.string().min(1).default('Tessera'),
    organization: z
      .object({
        name: z.string().min(1),
        displayName: z.string().min(1),
        url: z.url(),
      })
      .strict(),
    contact: z
      .object({
        /** A public administration (IPACode required) or a private provider (VAT or fiscal code). */
        public: z.boolean().default(true),
        ipaCode: z.string().min(1).optional(),
        vatNumber: z.string().regex(/^[A-Z]{2}[0-9A-Z]{2,13}$/).optional(),
        fiscalCode: z.string().min(11).max(16).optional(),
        email: z.email(),
        telephone: z.string().regex(/^\+[0-9]{6,15}$/).optional(),
      })
      .strict()
      .refine((c) => !c.public || c.ipaCode, { message: 'a public provider needs ipaCode', path: ['ipaCode'] })
      .refine((c) => c.public || c.vatNumber || c.fiscalCode, { message: 'a private provider needs vatNumber or fiscalCode', path: ['vatNumber'] }),
    /** PEM files of the SP's key and certificate; required in production, generated elsewhere. */
    keyFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    /** Identity providers: URLs or file paths of metadata (an EntityDescriptor or EntitiesDescriptor). */
    idps: z.array(z.string().min(1)).default([]),
    /** The national registry: its metadata URL and the certificate its signature is checked with. */
    registry: z
      .object({ url: z.url().optional(), certificateFile: z.string().min(1).optional() })
      .strict()
      .optional(),
    /**
     * `spid` (default): every rule of the SPID profile. `saml`: a generic SAML 2.0 identity provider
     * (federations outside SPID, test IdPs): Issuer Format, NameID format and NameQualifier and the
     * SPID levels are not required, and attributes beyond the requested ones are ignored; the
     * signatures, instants, audience, recipient and the single use of requests are checked alike.
     */
    profile: z.enum(['spid', 'saml']).default('spid'),
    /** SPID logins one client address may start in 10 minutes (each stores a pending request). */
    maxStartsPerAddress: z.number().int().min(1).default(120),
    /** Seconds a pending authentication request lives. */
    requestLifetimeSeconds: z.number().int().min(60).max(3600).default(600),
  })
  .strict();
export type SpidConfig = z.infer<typeof spidSchema>;
