/**
 * What the lessons and the welcome keep in localStorage: the lesson last open, the lessons run
 * to a result, and whether the first-visit welcome was dismissed. Read back as untrusted.
 */
import { writeItem, type KeyValueStorage } from '../persist';

export const LESSON_KEYS = {
  progress: 'exitscope.lessons.v1',
  welcome: 'exitscope.welcome.v1',
} as const;

export interface LessonProgress {
  /** 0-based index of the lesson last open. */
  current: number;
  /** Names of lessons whose run reached a result. */
  done: string[];
}

export const EMPTY_PROGRESS: LessonProgress = { current: 0, done: [] };

export function parseProgress(raw: string | null, lessonCount: number): LessonProgress {
  if (raw === null) return EMPTY_PROGRESS;
  try {
    const d = JSON.parse(raw) as unknown;
    if (typeof d !== 'object' || d === null) return EMPTY_PROGRESS;
    const { current, done } = d as Record<string, unknown>;
    return {
      current: Number.isInteger(current) && (current as number) >= 0 && (current as number) < lessonCount ? (current as number) : 0,
      done: Array.isArray(done) ? [...new Set(done.filter((x): x is string => typeof x === 'string' && x.length <= 100))].slice(0, 100) : [],
    };
  } catch {
    return EMPTY_PROGRESS;
  }
}

export function loadProgress(storage: KeyValueStorage, lessonCount: number): LessonProgress {
  return parseProgress(storage.getItem(LESSON_KEYS.progress), lessonCount);
}

export function saveProgress(storage: KeyValueStorage, p: LessonProgress): void {
  writeItem(storage, LESSON_KEYS.progress, JSON.stringify(p));
}

/** The welcome shows until one of its choices (or its close button) is taken. */
export function welcomeDismissed(storage: KeyValueStorage): boolean {
  return storage.getItem(LESSON_KEYS.welcome) !== null;
}

export function dismissWelcome(storage: KeyValueStorage): void {
  writeItem(storage, LESSON_KEYS.welcome, 'dismissed');
}

/**
 * The first visit is welcomed however the page was opened (a plain open, an example, a share
 * link, a page, a lesson): the welcome is a banner that blocks nothing the link asked for. An
 * embedded view (`?embed=1`, in someone else's iframe) never shows it.
 */
export function welcomeMayShow(search: string): boolean {
  return new URLSearchParams(search).get('embed') !== '1';
}

/**
 * What `?lesson=N` asks for: null when the address names no lesson; the 0-based index of lesson
 * N (1-based); or, for anything else, the text asked (for the error that says so).
 */
export function lessonFromSearch(search: string, lessonCount: number): null | { index: number } | { unknown: string } {
  const v = new URLSearchParams(search).get('lesson');
  if (v === null) return null;
  const n = /^\d{1,3}$/.test(v) ? Number(v) : NaN;
  return n >= 1 && n <= lessonCount ? { index: n - 1 } : { unknown: v };
}
