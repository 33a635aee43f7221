/** The glossary page: every term the app explains, and where it shows up. */
import { PageHeader } from '../PageHeader';
import { GLOSSARY } from './terms';
import './glossary.css';

export default function GlossaryView() {
  return (
    <main className="page" data-testid="glossary-view" aria-label="Glossary">
      <PageHeader title="Glossary" />
      <p className="muted">Terms marked with a dotted underline anywhere in the app show these definitions on hover and on keyboard focus.</p>
      <dl className="glossary-list">
        {GLOSSARY.map((t) => (
          <div key={t.term} style={{ display: 'contents' }}>
            <dt><span data-term={t.term} tabIndex={0} data-testid="glossary-term">{t.term}</span></dt>
            <dd>{t.definition}<span className="glossary-where">Shows up in: {t.where}</span></dd>
          </div>
        ))}
      </dl>
    </main>
  );
}
