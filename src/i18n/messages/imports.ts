import { defineMessages } from '../define.js';

/** Registrar imports: their error codes and the CLI summary. */
export const imports = defineMessages(
  {
    'error.import.malformed': 'The file cannot be read from row {row} on (for example, a quote that is never closed).',
    'error.import.duplicate_column': 'The header names the column {column} more than once: nothing was imported. Keep one {column} column and send the file again.',
    'error.import.unsupported_charset': 'The character set {charset} is not supported: use UTF-8, ISO-8859-1 (Latin-1), Windows-1252, ISO-8859-15, ISO-8859-7 or Windows-1253.',
    'error.field.invalid_encoding': 'The text is not valid in the file\'s character set (check the declared encoding).',
    'error.field.control_character': 'The value contains a control character (such as NUL, a line break or an invisible text-direction mark).',
    'import.summary': '{created} created, {updated} updated, {unchanged} unchanged, {rejected} rejected',
    'import.summaryDry': 'Dry run, nothing written: {created} would be created, {updated} updated, {unchanged} unchanged, {rejected} rejected',
    'import.summarySkippedPurged': '{skippedPurged} skipped (people purged after their record ended, whom the row does not enrol again)',
  },
  {
    'error.import.malformed': 'Il file non è leggibile dalla riga {row} in poi (ad esempio, virgolette aperte e mai chiuse).',
    'error.import.duplicate_column': 'L\'intestazione nomina la colonna {column} più di una volta: non è stato importato nulla. Lasciare una sola colonna {column} e inviare di nuovo il file.',
    'error.import.unsupported_charset': 'La codifica {charset} non è supportata: usare UTF-8, ISO-8859-1 (Latin-1), Windows-1252, ISO-8859-15, ISO-8859-7 o Windows-1253.',
    'error.field.invalid_encoding': 'Il testo non è valido nella codifica del file (verificare la codifica dichiarata).',
    'error.field.control_character': 'Il valore contiene un carattere di controllo (ad esempio NUL, un a capo o un segno invisibile di direzione del testo).',
    'import.summary': '{created} creati, {updated} aggiornati, {unchanged} invariati, {rejected} scartati',
    'import.summaryDry': 'Prova senza scrivere nulla: {created} da creare, {updated} da aggiornare, {unchanged} invariati, {rejected} scartati',
    'import.summarySkippedPurged': '{skippedPurged} ignorati (persone cancellate dopo la cessazione, che la riga non iscrive di nuovo)',
  },
  {
    'error.import.malformed': 'Το αρχείο δεν διαβάζεται από τη γραμμή {row} και μετά (για παράδειγμα, εισαγωγικά που δεν κλείνουν ποτέ).',
    'error.import.duplicate_column': 'Η κεφαλίδα αναφέρει τη στήλη {column} περισσότερες από μία φορές: δεν εισήχθη τίποτα. Κρατήστε μία μόνο στήλη {column} και στείλτε ξανά το αρχείο.',
    'error.import.unsupported_charset': 'Η κωδικοποίηση {charset} δεν υποστηρίζεται: χρησιμοποιήστε UTF-8, ISO-8859-1 (Latin-1), Windows-1252, ISO-8859-15, ISO-8859-7 ή Windows-1253.',
    'error.field.invalid_encoding': 'Το κείμενο δεν είναι έγκυρο στην κωδικοποίηση του αρχείου (ελέγξτε τη δηλωμένη κωδικοποίηση).',
    'error.field.control_character': 'Η τιμή περιέχει χαρακτήρα ελέγχου (όπως NUL, αλλαγή γραμμής ή αόρατο σημάδι κατεύθυνσης κειμένου).',
    'import.summary': '{created} νέοι, {updated} ενημερώθηκαν, {unchanged} αμετάβλητοι, {rejected} απορρίφθηκαν',
    'import.summaryDry': 'Δοκιμαστική εκτέλεση, δεν γράφτηκε τίποτα: {created} θα δημιουργηθούν, {updated} θα ενημερωθούν, {unchanged} αμετάβλητοι, {rejected} απορρίφθηκαν',
    'import.summarySkippedPurged': '{skippedPurged} παραλείφθηκαν (πρόσωπα που διαγράφηκαν μετά τη λήξη της εγγραφής τους και που η γραμμή δεν εγγράφει ξανά)',
  },
);
