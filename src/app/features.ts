import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { registerSpidRoutes } from '../spid/routes.js';

type Adder = (app: FastifyInstance, ctx: AppContext) => void | Promise<void>;

/**
 * The route groups of each feature area, by scope. A feature area adds its registration function
 * to one of these lists, so server.ts stays the same as areas grow.
 * - html: public pages (form bodies parsed; flows bound to the browser)
 * - api: JSON API under /api/v1 (JSON bodies only)
 * - admin: behind the administrator token
 * - root: anything needing its own encapsulation (e.g. the OpenID Connect provider)
 */
export const htmlRoutes: Adder[] = [registerSpidRoutes];
export const apiRoutes: Adder[] = [];
export const adminRoutes: Adder[] = [];
export const rootRoutes: Adder[] = [];
