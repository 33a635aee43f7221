import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../persist';
import {
  dismissWelcome, EMPTY_PROGRESS, lessonFromSearch, loadProgress, parseProgress, saveProgress, welcomeDismissed, welcomeMayShow,
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

  it('welcomes a first visit through any link except an embedded view', () => {
    for (const search of ['', '?foo=1', '?example=lapic-microbench', '?view=experiment', '?lesson=2', '?embed=0']) expect(welcomeMayShow(search), search).toBe(true);
    expect(welcomeMayShow('?embed=1&example=lapic-microbench')).toBe(false);
  });

  it('reads ?lesson=N as 1-based and names anything else it was asked', () => {
    expect(lessonFromSearch('?lesson=1', 8)).toEqual({ index: 0 });
    expect(lessonFromSearch('?example=x&lesson=8', 8)).toEqual({ index: 7 });
    expect(lessonFromSearch('?lesson=9', 8)).toEqual({ unknown: '9' });
    expect(lessonFromSearch('?lesson=0', 8)).toEqual({ unknown: '0' });
    expect(lessonFromSearch('?lesson=abc', 8)).toEqual({ unknown: 'abc' });
    expect(lessonFromSearch('?lesson=', 8)).toEqual({ unknown: '' });
    expect(lessonFromSearch('?example=x', 8)).toBeNull();
    expect(lessonFromSearch('', 8)).toBeNull();
  });
});
