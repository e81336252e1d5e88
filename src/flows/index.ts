import { activationPasswordFlow } from './activation-password/service.js';
import { registerFlow } from './kernel/registry.js';
import { loginFlow } from './login/service.js';
import { passwordChangeFlow } from './password-change/service.js';
import { spidAlignmentFlow } from './spid-alignment/service.js';

let done = false;
/** Registers every kind of flow once. A new flow adds one line here. */
export function registerFlows(): void {
  if (done) return;
  done = true;
  registerFlow(loginFlow);
  registerFlow(activationPasswordFlow);
  registerFlow(passwordChangeFlow);
  registerFlow(spidAlignmentFlow);
}
