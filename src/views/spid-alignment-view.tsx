import { SignInLink } from './components/done-parts.js';
import type { Comparable } from '../flows/spid-alignment/machine.js';
import { comparedFields } from '../flows/spid-alignment/machine.js';
import { registerFlowView } from './flow-views.js';

/** The alignment page: SPID's data and the data on file side by side, then confirm or cancel. */
export function registerSpidAlignmentView(): void {
  registerFlowView('spid-alignment', {
    intro: (view, t) => {
      const d = view.data as { spid: Comparable; onFile: Comparable };
      return (
        <div class="table-scroll">
          <table class="compare">
            <caption class="visually-hidden">{t('spid-alignment.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('spid-alignment.field')}</th>
                <th scope="col">{t('spid-alignment.spid')}</th>
                <th scope="col">{t('spid-alignment.onFile')}</th>
                <th scope="col">{t('spid-alignment.changes')}</th>
              </tr>
            </thead>
            <tbody>
              {comparedFields.map((f) => {
                const spid = d.spid[f] ?? '—';
                const file = d.onFile[f] ?? '—';
                const differs = d.spid[f] !== null && (d.spid[f] ?? '').toLowerCase() !== (d.onFile[f] ?? '').toLowerCase();
                return (
                  <tr class={differs ? 'differs' : undefined}>
                    <th scope="row">{t(`spid-alignment.${f}`)}</th>
                    <td>{spid}</td>
                    <td>{file}</td>
                    <td>{differs ? <strong>{t('spid-alignment.differs')}</strong> : t('spid-alignment.same')}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      );
    },
    submitLabel: () => 'spid-alignment.confirm',
    doneTitle: (view) => ((view.result as { linked?: boolean }).linked ? 'spid-alignment.doneTitle' : 'spid-alignment.cancelledTitle'),
    done: (view, t) => {
      const r = view.result as { linked: boolean; next?: string };
      return r.linked ? (
        <>
          <p class="success" role="status">
            {t('spid-alignment.doneText')}
          </p>
          <p>
            <a class="button primary" href={r.next ?? '/account'}>
              {t('layout.account')}
            </a>
          </p>
        </>
      ) : (
        <>
          <p role="status">{t('spid-alignment.cancelledText')}</p>
          <SignInLink t={t} />
        </>
      );
    },
  });
}
