/** The seed's experiment: every workload under every strategy, in one table. */
import { PageHeader } from '../PageHeader';

export default function ExperimentView() {
  return (
    <main className="page" data-testid="experiment-view" aria-label="The seed's experiment">
      <PageHeader title="The seed's experiment" />
    </main>
  );
}
