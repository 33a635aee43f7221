/** The glossary page: every term the app explains, and where it shows up. */
import { PageHeader } from '../PageHeader';

export default function GlossaryView() {
  return (
    <main className="page" data-testid="glossary-view" aria-label="Glossary">
      <PageHeader title="Glossary" />
    </main>
  );
}
