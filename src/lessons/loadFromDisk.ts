/** The lessons read from disk, for Node (Playwright specs, scripts run with tsx). */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLesson, type Lesson } from './lesson';

export const LESSON_DIR = dirname(fileURLToPath(import.meta.url));

/** In file-name order, as src/lessons/index.ts bundles them. */
export function loadLessons(): Lesson[] {
  return readdirSync(LESSON_DIR)
    .filter((f) => f.endsWith('.md') && !/README/i.test(f))
    .sort((a, b) => a.localeCompare(b))
    .map((f) => parseLesson(f.slice(0, -3), readFileSync(join(LESSON_DIR, f), 'utf8')));
}
