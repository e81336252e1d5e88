import { z } from 'zod';
import type { PopulationId } from '../../config/institution-schema.js';
import { secret, text } from '../kernel/input.js';
import type { FieldSpec } from '../kernel/types.js';

/** activation-password: awaiting_credentials → completed. */
export const states = ['awaiting_credentials', 'completed'] as const;

export type ActivationPasswordData = Record<string, never>;

export const credentialsInput = z.object({
  population: text(40),
  username: text(120),
  currentPassword: secret(),
  newPassword: secret(),
  newPasswordConfirm: secret(),
});

export function fields(populations: Array<{ id: PopulationId; label: string }>, policyHint: string): FieldSpec[] {
  return [
    {
      name: 'population',
      type: 'select',
      required: true,
      options: populations.map((p) => ({ value: p.id, label: p.label })),
    },
    { name: 'username', type: 'text', required: true, autocomplete: 'username', hint: 'activation-password.usernameHelp', maxLength: 120 },
    { name: 'currentPassword', type: 'password', required: true, autocomplete: 'current-password', hint: 'activation-password.currentHelp' },
    { name: 'newPassword', type: 'password', required: true, autocomplete: 'new-password', hint: policyHint },
    { name: 'newPasswordConfirm', type: 'password', required: true, autocomplete: 'new-password' },
  ];
}
