import { defineMessages } from '../define.js';

/** Provisioning to directories and mail platforms (administration API). */
export const provisioning = defineMessages(
  {
    'error.provisioning.unknown_target': 'There is no provisioning target with this name.',
  },
  {
    'error.provisioning.unknown_target': 'Non esiste una destinazione di provisioning con questo nome.',
  },
  {
    'error.provisioning.unknown_target': 'Δεν υπάρχει προορισμός παροχής λογαριασμών με αυτό το όνομα.',
  },
);
