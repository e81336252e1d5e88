import type { AppContext } from '../../app/context.js';
import { policyHint } from '../../auth/new-password.js';
import { translate, type Locale } from '../../i18n/index.js';
import { registerActivationPinTemplates } from '../../messages/activation-pin-templates.js';
import { localized } from '../../views/localized.js';
import type { FlowDefinition } from '../kernel/types.js';
import { consentsOf, stepConsent, stepNationalId, stepPassword } from './account-steps.js';
import { stepContact, stepPin } from './contact-steps.js';
import { countryOptions } from './countries.js';
import { consentFields, contactFields, nationalIdFields, passwordFields, pinFields, states, type ActivationPinData } from './machine.js';
import { fail } from './outcome.js';
import { keepShownVersions } from '../kernel/consents.js';

registerActivationPinTemplates();

const emptyData = (): ActivationPinData => ({
  personId: null,
  accountId: null,
  sendSms: null,
  sendEmail: null,
  destinations: [],
  contact: null,
  needsNationalId: false,
  idMode: 'amka',
  username: null,
  suggestions: [],
  resent: false,
});

/**
 * The mobile field's hint: numbers without a country code are read as numbers of the
 * institution's default country, which the hint names in the page's language.
 */
function mobileHint(ctx: AppContext, locale: Locale): string {
  const cc = ctx.config.institution.defaultCountry.toUpperCase();
  return translate(locale, 'activation-pin.mobileHelp', { country: countryName(cc, locale) });
}

// Building Intl.DisplayNames costs more than the rest of a step's page: one name per language and code.
const countryNames = new Map<string, string>();
function countryName(cc: string, locale: Locale): string {
  const key = `${locale}:${cc}`;
  let name = countryNames.get(key);
  if (name === undefined) {
    try {
      name = new Intl.DisplayNames([locale], { type: 'region' }).of(cc) ?? cc;
    } catch {
      // An unknown region code keeps its code.
      name = cc;
    }
    countryNames.set(key, name);
  }
  return name;
}

/**
 * Activation by matching the registrar's record and a PIN (`uop`). Produces
 * `activation.no_match`, `activation.already_active`, `activation.pin_invalid`,
 * `activation.pin_expired`, `activation.pin_locked`, `activation.resend_too_soon`,
 * `activation.too_many_pins`, `national_id.invalid`, `password.policy`, `password.mismatch`,
 * `validation.failed`, `flow.wrong_state`.
 */
export const activationPinFlow: FlowDefinition<ActivationPinData> = {
  kind: 'activation-pin',
  states,
  secretFields: ['pin', 'password', 'passwordConfirm', 'suggestion'],
  stateInputs: {
    awaiting_contact: ['mobile', 'email'],
    awaiting_pin: ['pin'],
    awaiting_national_id: ['amka', 'insuranceCountry', 'insuranceNumber'],
    awaiting_consent: ['dataAccurate', 'consents'],
    awaiting_password: ['password', 'passwordConfirm', 'suggestion'],
  },
  async start() {
    return { state: 'awaiting_contact', data: emptyData() };
  },
  describe(state, data, ctx, locale) {
    const t = (k: string, p?: Record<string, string | number>) => translate(locale, k, p);
    switch (state) {
      case 'awaiting_contact':
        return { fields: contactFields(mobileHint(ctx, locale)), actions: ['submit'], data: data.contact ? { contact: data.contact } : {} };
      case 'awaiting_pin':
        return { fields: pinFields(), actions: ['submit', 'resend'], data: { destinations: data.destinations, contact: data.contact, resent: data.resent } };
      case 'awaiting_national_id':
        return {
          fields: nationalIdFields(data.idMode, countryOptions(locale)),
          actions: ['submit', data.idMode === 'amka' ? 'use_insurance' : 'use_amka'],
          data: { mode: data.idMode, contact: data.contact },
        };
      case 'awaiting_consent': {
        const consents = consentsOf(ctx, locale);
        const instructions = ctx.config.activation.instructions;
        return {
          fields: consentFields(consents, locale),
          actions: ['submit'],
          data: {
            username: data.username,
            // The data on file the person certifies as accurate (identifiers and contacts masked).
            ...(data.record ? { person: data.record } : {}),
            contact: data.contact,
            consents,
            ...(instructions ? { instructions: localized(instructions, locale) } : {}),
          },
        };
      }
      case 'awaiting_password':
        return {
          fields: passwordFields(policyHint(ctx, t), data.suggestions),
          actions: ['submit'],
          data: { username: data.username, suggestions: data.suggestions, contact: data.contact },
        };
      default:
        return { fields: [], actions: [], data: {} };
    }
  },
  // The consent step keeps the versions it shows: they are the ones recorded.
  remember(state, data, ctx) {
    return state === 'awaiting_consent' ? keepShownVersions(data, consentsOf(ctx, ctx.config.institution.defaultLocale)) : null;
  },
  async step(ctx, flow, action, input, req) {
    switch (flow.state) {
      case 'awaiting_contact':
        return stepContact(ctx, flow.id, flow.data, input, req);
      case 'awaiting_pin':
        return stepPin(ctx, flow.id, flow.data, action, input, req);
      case 'awaiting_national_id':
        return stepNationalId(ctx, flow.data, action, input, req);
      case 'awaiting_consent':
        return stepConsent(ctx, flow.data, input, req);
      case 'awaiting_password':
        return stepPassword(ctx, flow.data, input, req);
      default:
        return fail('flow.wrong_state');
    }
  },
};
