import type { BenchSection } from '../lib.js';
import { importSection } from './import.js';
import { loginSection } from './login.js';
import { rssSection } from './rss.js';
import { mailboxesSection } from './mailboxes.js';
import { oidcSection } from './oidc.js';
import { purgeSection } from './purge.js';
import { pinSection } from './pin.js';
import { spidBench } from './spid.js';
import { ldapSection } from './ldap.js';

/** Every benchmark section, in the order printed. An area adds its section here. */
export const sections: BenchSection[] = [importSection, loginSection, rssSection, mailboxesSection, oidcSection, purgeSection, pinSection, spidBench, ldapSection];
