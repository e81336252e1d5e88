import type { FastifyInstance } from 'fastify';
import { registerImportRoutes } from '../imports/routes.js';
import type { AppContext } from './context.js';
import { registerMailboxAdminRoutes } from '../mailboxes/admin-routes.js';
import { registerMailboxApiRoutes, registerMailboxHtmlRoutes } from '../mailboxes/routes.js';
import { registerOrgUnitAdminRoutes } from '../org-units/admin-routes.js';
import { registerServiceAdminRoutes } from '../oidc/admin-routes.js';
import { registerInteractionRoutes } from '../oidc/interaction-routes.js';
import { mountProvider } from '../oidc/mount.js';
import { registerEmailLinkRoutes } from './routes/email-links.js';
import { registerJobRoutes } from '../jobs/routes.js';
import { registerDevOutboxApiRoutes, registerDevOutboxHtmlRoutes, registerOutboxAdminRoutes } from '../outbox/routes.js';
import { registerTicketAdminRoutes, registerTicketApiRoutes, registerTicketHtmlRoutes } from '../tickets/routes.js';
import { registerSpid } from '../spid/runtime-registry.js';
import { registerConsentApiRoutes, registerConsentHtmlRoutes } from '../oidc/consent-routes.js';

type Adder = (app: FastifyInstance, ctx: AppContext) => void | Promise<void>;

/**
 * The route groups of each feature area, by scope. A feature area adds its registration function
 * to one of these lists, so server.ts stays the same as areas grow.
 * - html: public pages (form bodies parsed; flows bound to the browser)
 * - api: JSON API under /api/v1 (JSON bodies only)
 * - admin: behind the administrator token
 * - root: anything needing its own encapsulation (e.g. the OpenID Connect provider)
 */
export const htmlRoutes: Adder[] = [registerMailboxHtmlRoutes, registerInteractionRoutes, registerEmailLinkRoutes, registerTicketHtmlRoutes, registerDevOutboxHtmlRoutes, registerSpid, registerConsentHtmlRoutes];
export const apiRoutes: Adder[] = [registerMailboxApiRoutes, registerTicketApiRoutes, registerDevOutboxApiRoutes, registerConsentApiRoutes];
export const adminRoutes: Adder[] = [registerImportRoutes, registerOrgUnitAdminRoutes, registerMailboxAdminRoutes, registerServiceAdminRoutes, registerJobRoutes, registerTicketAdminRoutes, registerOutboxAdminRoutes];
export const rootRoutes: Adder[] = [mountProvider];
