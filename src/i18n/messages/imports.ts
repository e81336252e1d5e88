import { defineMessages } from '../define.js';

/** Registrar imports: their error codes and the CLI summary. */
export const imports = defineMessages(
  {
    'error.import.malformed': 'The file cannot be read from row {row} on (for example, a quote that is never closed).',
    'import.summary': '{created} created, {updated} updated, {unchanged} unchanged, {rejected} rejected',
    'import.summaryDry': 'Dry run, nothing written: {created} would be created, {updated} updated, {unchanged} unchanged, {rejected} rejected',
  },
  {
    'error.import.malformed': 'Il file non è leggibile dalla riga {row} in poi (ad esempio, virgolette aperte e mai chiuse).',
    'import.summary': '{created} creati, {updated} aggiornati, {unchanged} invariati, {rejected} scartati',
    'import.summaryDry': 'Prova senza scrivere nulla: {created} da creare, {updated} da aggiornare, {unchanged} invariati, {rejected} scartati',
  },
  {
    'error.import.malformed': 'Το αρχείο δεν διαβάζεται από τη γραμμή {row} και μετά (για παράδειγμα, εισαγωγικά που δεν κλείνουν ποτέ).',
    'import.summary': '{created} νέοι, {updated} ενημερώθηκαν, {unchanged} αμετάβλητοι, {rejected} απορρίφθηκαν',
    'import.summaryDry': 'Δοκιμαστική εκτέλεση, δεν γράφτηκε τίποτα: {created} θα δημιουργηθούν, {updated} θα ενημερωθούν, {unchanged} αμετάβλητοι, {rejected} απορρίφθηκαν',
  },
);
