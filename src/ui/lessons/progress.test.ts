import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../persist';
import {
  dismissWelcome, EMPTY_PROGRESS, lessonFromSearch, loadProgress, opensSomething, parseProgress, saveProgress, welcomeDismissed,
} from './progress';

describe('lesson progress and the welcome flag in localStorage', () => {
  it('round-trips progress and falls back field by field on bad data', () => {
    const s = memoryStorage();
    expect(loadProgress(s, 8)).toEqual(EMPTY_PROGRESS);
    saveProgress(s, { current: 3, done: ['01-vm-exit'] });
    expect(loadProgress(s, 8)).toEqual({ current: 3, done: ['01-vm-exit'] });
    expect(parseProgress('{"current": 42, "done": [1, "a", "a"]}', 8)).toEqual({ current: 0, done: ['a'] });
    expect(parseProgress('not json', 8)).toEqual(EMPTY_PROGRESS);
  });

  it('remembers that the welcome was dismissed', () => {
    const s = memoryStorage();
    expect(welcomeDismissed(s)).toBe(false);
    dismissWelcome(s);
    expect(welcomeDismissed(s)).toBe(true);
  });

  it('knows a link that already opens something (no welcome for it) from a plain open', () => {
    expect(opensSomething('', '')).toBe(false);
    expect(opensSomething('?foo=1', '#x')).toBe(false);
    expect(opensSomething('?example=lapic-microbench', '')).toBe(true);
    expect(opensSomething('?view=experiment', '')).toBe(true);
    expect(opensSomething('?lesson=2', '')).toBe(true);
    expect(opensSomething('', '#s=N4Ig')).toBe(true);
  });

  it('reads ?lesson=N as 1-based and ignores anything out of range', () => {
    expect(lessonFromSearch('?lesson=1', 8)).toBe(0);
    expect(lessonFromSearch('?example=x&lesson=8', 8)).toBe(7);
    expect(lessonFromSearch('?lesson=9', 8)).toBeNull();
    expect(lessonFromSearch('?lesson=0', 8)).toBeNull();
    expect(lessonFromSearch('?lesson=abc', 8)).toBeNull();
    expect(lessonFromSearch('', 8)).toBeNull();
  });
});
