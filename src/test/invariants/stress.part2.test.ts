/** The second half of the stress programs (see stress.test.ts), run by vitest in parallel with the first. */
import { stressSuite } from './stressSuite';

stressSuite(1);
