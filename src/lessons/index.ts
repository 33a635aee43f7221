/** The lessons, bundled at build time as raw Markdown (Vite / vitest import.meta.glob). */
import { parseLesson, type Lesson } from './lesson';

const files = import.meta.glob('./*.md', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

/** In file-name order (01-..., 02-...), which is the teaching order. */
export const LESSONS: Lesson[] = Object.entries(files)
  .filter(([path]) => !/README/i.test(path))
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([path, text]) => parseLesson(path.replace(/^\.\/|\.md$/g, ''), text));

export type { Lesson } from './lesson';
