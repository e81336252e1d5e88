import type { AppContext } from '../../app/context.js';
import { spidRuntimeOf } from '../../spid/runtime-registry.js';

type T = (k: string, p?: Record<string, string | number>) => string;

/** The SPID mark: a person in a circle, as on the official button (decorative). */
function SpidMark() {
  return (
    <svg class="spid-mark" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="24" height="24">
      <circle cx="12" cy="12" r="12" fill="#fff" />
      <circle cx="12" cy="8" r="3.6" fill="#06c" />
      <path d="M5.5 19.5c0-3.9 2.9-6.3 6.5-6.3s6.5 2.4 6.5 6.3z" fill="#06c" />
    </svg>
  );
}

/**
 * "Entra con SPID": the official button's look (blue, white mark, the identity providers in a
 * list below it) without JavaScript: a disclosure (details/summary) opening the list of links,
 * each starting /spid/login for that provider. Nothing is shown when SPID is not configured.
 */
export function SpidButton(props: { ctx: AppContext; t: T; returnTo?: string | undefined }) {
  const rt = spidRuntimeOf(props.ctx);
  if (!rt || rt.idps.size === 0) return null;
  const { t } = props;
  const idps = [...rt.idps.values()].sort((a, b) => a.name.localeCompare(b.name, 'it'));
  const href = (entityId: string) => {
    const q = new URLSearchParams({ idp: entityId, ...(props.returnTo ? { return_to: props.returnTo } : {}) });
    return `/spid/login?${q.toString()}`;
  };
  return (
    <section class="spid" aria-labelledby="spid-title">
      <details class="spid-button">
        <summary class="spid-summary">
          <SpidMark />
          <span id="spid-title">{t('spid.button')}</span>
        </summary>
        <nav aria-label={t('spid.chooseIdp')}>
          <ul class="spid-idps">
            {idps.map((idp) => (
              <li>
                <a href={href(idp.entityId)}>{idp.name}</a>
              </li>
            ))}
            <li class="spid-info">
              <a href="https://www.spid.gov.it" rel="noopener">
                {t('spid.moreInfo')}
              </a>
            </li>
            <li class="spid-info">
              <a href="https://www.spid.gov.it/cos-e-spid/come-attivare-spid/" rel="noopener">
                {t('spid.noSpid')}
              </a>
            </li>
          </ul>
        </nav>
      </details>
      <p class="hint">{t('spid.buttonHelp')}</p>
      <p class="spid-or">{t('spid.or')}</p>
    </section>
  );
}
