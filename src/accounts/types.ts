import type { Locale } from '../i18n/index.js';
import type { AccountStatus } from '../domain/account-status.js';

export interface Person {
  id: string;
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
  registrarStatus: string;
  orgUnit: string | null;
  role: string | null;
  contractType: string | null;
  entitlements: string[];
  extra: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface Account {
  id: string;
  personId: string | null;
  username: string;
  email: string | null;
  status: AccountStatus;
  passwordHash: string | null;
  passwordChangedAt: string | null;
  federatedOnly: boolean;
  roles: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
  /** The language the person last chose (signing in, activating, registering); null if never. */
  locale: Locale | null;
}
