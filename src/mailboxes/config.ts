import { z } from 'zod';

/** The office types of the ministry's organisation; an institution may list its own instead. */
export const defaultOrgUnitTypes = ['Direzione', 'Dipartimento', 'Ambito territoriale', 'Uffici di diretta collaborazione'];

/**
 * The `mailboxes:` section of the institution's file: offices, referents and mailbox requests.
 */
export const mailboxesSchema = z
  .object({
    /** Office types accepted by the org-unit import. */
    orgUnitTypes: z.array(z.string().min(1).max(80)).min(1).default(defaultOrgUnitTypes),
    /** `office`: a referent sees the requests of their own offices; `subtree`: also of the offices below. */
    referentScope: z.enum(['office', 'subtree']).default('office'),
    /** Hours a request may wait before its referents are reminded. */
    remindAfterHours: z.number().positive().default(48),
    /** Days after which a request nobody decided expires. */
    expireAfterDays: z.number().positive().default(14),
    /** Hours an activation link stays valid. */
    activationLinkHours: z.number().positive().max(24 * 30).default(72),
    /** School staff requests go to a referent even when eligible (otherwise they are fulfilled at once). */
    schoolStaffNeedApproval: z.boolean().default(false),
    /** The entitlement that stands for enablement to the "Istanze OnLine" service. */
    istanzeEntitlement: z.string().min(1).default('istanze-online'),
  })
  .strict();

export type MailboxesConfig = z.infer<typeof mailboxesSchema>;
export const defaultMailboxesConfig: MailboxesConfig = mailboxesSchema.parse({});
