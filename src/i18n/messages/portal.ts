import { defineMessages } from '../define.js';

/** Texts of the portal's page furniture: submit buttons of the core flows, home page extras. */
export const portal = defineMessages(
  {
    'activation-password.submit': 'Activate the account',
    'login.submit': 'Sign in',
    'password-change.submit': 'Change password',
    'form.errorPrefix': 'Error:',
    'layout.mainNav': 'Main menu',
    'home.activate.intro': 'Never signed in? Activate your institutional account in a few minutes.',
    'home.signin.intro': 'Use your institutional username and password.',
    'account.actions': 'What you can do',
  },
  {
    'activation-password.submit': 'Attiva l’account',
    'login.submit': 'Accedi',
    'password-change.submit': 'Cambia password',
    'form.errorPrefix': 'Errore:',
    'layout.mainNav': 'Menu principale',
    'home.activate.intro': 'Non hai mai effettuato l’accesso? Attiva il tuo account istituzionale in pochi minuti.',
    'home.signin.intro': 'Usa il nome utente e la password istituzionali.',
    'account.actions': 'Cosa puoi fare',
  },
  {
    'activation-password.submit': 'Ενεργοποίηση λογαριασμού',
    'login.submit': 'Σύνδεση',
    'password-change.submit': 'Αλλαγή κωδικού',
    'form.errorPrefix': 'Σφάλμα:',
    'layout.mainNav': 'Κύριο μενού',
    'home.activate.intro': 'Δεν έχετε συνδεθεί ποτέ; Ενεργοποιήστε τον ιδρυματικό σας λογαριασμό σε λίγα λεπτά.',
    'home.signin.intro': 'Χρησιμοποιήστε το ιδρυματικό όνομα χρήστη και τον κωδικό σας.',
    'account.actions': 'Τι μπορείτε να κάνετε',
  },
);
