import { activationPasswordFlow } from './activation-password/service.js';
import { activationPinFlow } from './activation-pin/service.js';
import { registerFlow } from './kernel/registry.js';
import { loginFlow } from './login/service.js';
import { mailboxRequestFlow } from './mailbox-request/service.js';
import { passwordChangeFlow } from './password-change/service.js';
import { emailChangeFlow } from './email-change/service.js';
import { passwordResetFlow } from './password-reset/service.js';
import { registrationFlow } from './registration/service.js';
import { usernameRecoveryFlow } from './username-recovery/service.js';
import { spidAlignmentFlow } from './spid-alignment/service.js';

let done = false;
/** Registers every kind of flow once. A new flow adds one line here. */
export function registerFlows(): void {
  if (done) return;
  done = true;
  registerFlow(loginFlow);
  registerFlow(activationPasswordFlow);
  registerFlow(activationPinFlow);
  registerFlow(passwordChangeFlow);
  registerFlow(mailboxRequestFlow);
  registerFlow(registrationFlow);
  registerFlow(usernameRecoveryFlow);
  registerFlow(passwordResetFlow);
  registerFlow(emailChangeFlow);
  registerFlow(spidAlignmentFlow);
}
