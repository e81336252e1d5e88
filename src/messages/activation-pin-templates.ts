import { escapeHtml, htmlBody, registerTemplate } from './templates.js';

/**
 * The activation PIN (`uop`): by email and by SMS, in Italian, English and Greek.
 * Params: `pin`, `minutes`, `institution` (the short name), `helpdesk` (may be empty).
 */
export const ACTIVATION_PIN_TEMPLATE = 'activation-pin';

type P = Record<string, string | number>;

const email = (subject: (p: P) => string, lines: (p: P) => string[], htmlLines: (p: P) => string[]) => (p: P) => ({
  subject: subject(p),
  text: `${lines(p).join('\n\n')}\n`,
  html: htmlBody('en', subject(p), htmlLines(p)),
});

let registered = false;
export function registerActivationPinTemplates(): void {
  if (registered) return;
  registered = true;
  registerTemplate({
    name: ACTIVATION_PIN_TEMPLATE,
    sensitive: true,
    email: {
      en: email(
        (p) => `${p.institution}: your activation PIN`,
        (p) => [
          `Your PIN to activate your ${p.institution} account is: ${p.pin}`,
          `It is valid for ${p.minutes} minutes and can be used once. Enter it on the activation page.`,
          'If you did not ask for it, ignore this message: nothing changes without the PIN.',
        ],
        (p) => [
          `Your PIN to activate your ${escapeHtml(p.institution!)} account is: <strong style="font-size:1.4em;letter-spacing:.1em">${escapeHtml(p.pin!)}</strong>`,
          `It is valid for ${escapeHtml(p.minutes!)} minutes and can be used once. Enter it on the activation page.`,
          'If you did not ask for it, ignore this message: nothing changes without the PIN.',
        ],
      ),
      it: (p) => {
        const subject = `${p.institution}: il tuo PIN di attivazione`;
        const l = [
          `Il PIN per attivare il tuo account ${p.institution} è: ${p.pin}`,
          `È valido per ${p.minutes} minuti e si può usare una sola volta. Inseriscilo nella pagina di attivazione.`,
          'Se non l’hai richiesto, ignora questo messaggio: senza il PIN non cambia nulla.',
        ];
        return {
          subject,
          text: `${l.join('\n\n')}\n`,
          html: htmlBody('it', subject, [
            `Il PIN per attivare il tuo account ${escapeHtml(p.institution!)} è: <strong style="font-size:1.4em;letter-spacing:.1em">${escapeHtml(p.pin!)}</strong>`,
            escapeHtml(l[1]!),
            escapeHtml(l[2]!),
          ]),
        };
      },
      el: (p) => {
        const subject = `${p.institution}: ο κωδικός PIN ενεργοποίησης`;
        const l = [
          `Ο εξαψήφιος κωδικός (PIN) για την ενεργοποίηση του ιδρυματικού σας λογαριασμού στο ${p.institution} είναι: ${p.pin}`,
          `Ισχύει για ${p.minutes} λεπτά και χρησιμοποιείται μία φορά. Καταχωρήστε τον στη σελίδα ενεργοποίησης.`,
          'Αν δεν τον ζητήσατε, αγνοήστε αυτό το μήνυμα: χωρίς τον κωδικό δεν αλλάζει τίποτα.',
        ];
        return {
          subject,
          text: `${l.join('\n\n')}\n`,
          html: htmlBody('el', subject, [
            `Ο εξαψήφιος κωδικός (PIN) για την ενεργοποίηση του ιδρυματικού σας λογαριασμού στο ${escapeHtml(p.institution!)} είναι: <strong style="font-size:1.4em;letter-spacing:.1em">${escapeHtml(p.pin!)}</strong>`,
            escapeHtml(l[1]!),
            escapeHtml(l[2]!),
          ]),
        };
      },
    },
    sms: {
      en: (p) => `${p.institution} activation PIN: ${p.pin}. Valid ${p.minutes} min. Do not share it.`,
      it: (p) => `${p.institution} PIN di attivazione: ${p.pin}. Valido ${p.minutes} min. Non condividerlo.`,
      // Greek needs UCS-2: 70 characters at most for one segment (with a 10-character short name).
      el: (p) => `${p.institution} PIN ενεργοποίησης: ${p.pin}. Ισχύει ${p.minutes} λεπτά. Μην τον δώσετε.`,
    },
  });
}
