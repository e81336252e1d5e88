import { defineMessages } from '../define.js';

/** Texts of the portal's page furniture: submit buttons of the core flows, home page extras. */
export const portal = defineMessages(
  {
    'activation-password.submit': 'Activate the account',
    'login.submit': 'Sign in',
    'password-change.submit': 'Change password',
  },
  {
    'activation-password.submit': 'Attiva l’account',
    'login.submit': 'Accedi',
    'password-change.submit': 'Cambia password',
  },
  {
    'activation-password.submit': 'Ενεργοποίηση λογαριασμού',
    'login.submit': 'Σύνδεση',
    'password-change.submit': 'Αλλαγή κωδικού',
  },
);
