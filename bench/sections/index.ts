import type { BenchSection } from '../lib.js';
import { ldapSection } from './ldap.js';

/** Every benchmark section, in the order printed. An area adds its section here. */
export const sections: BenchSection[] = [ldapSection];
