import { describe, expect, it } from 'vitest';
import { COST_PRESET_NAMES } from '../core/cost';
import { SCENARIOS } from '../scenarios';
import { glossaryEntry } from '../ui/glossary/terms';
import { PANEL_DEFS } from '../ui/panelRegistry';
import { LESSONS } from './index';
import { loadLessons } from './loadFromDisk';
import { inlineRuns, LessonFormatError, lessonWords, markedTerms, parseLesson } from './lesson';
import { LESSON_RESULTS } from './results';

describe('lesson files', () => {
  it('there are at least eight, in file order, the same bundled by Vite and read from disk', () => {
    expect(LESSONS.length).toBeGreaterThanOrEqual(8);
    expect(LESSONS.map((l) => l.name)).toEqual([...LESSONS.map((l) => l.name)].sort());
    expect(loadLessons()).toEqual(LESSONS);
  });

  for (const l of LESSONS) {
    describe(l.name, () => {
      it('names an existing program, preset, result function and panels', () => {
        expect(SCENARIOS.map((s) => s.name), l.program).toContain(l.program);
        expect(COST_PRESET_NAMES as readonly string[], l.preset).toContain(l.preset);
        expect(Object.keys(LESSON_RESULTS), l.result).toContain(l.result);
        expect(l.panels.length).toBeGreaterThan(0);
        for (const p of l.panels) expect(PANEL_DEFS.map((d) => d.id), p).toContain(p);
      });

      it('marks glossary terms in its text, each one the glossary explains', () => {
        const terms = l.paragraphs.flatMap(markedTerms);
        expect(terms.length, l.name).toBeGreaterThan(0);
        for (const t of terms) expect(glossaryEntry(t), `${l.name}: [[${t}]]`).toBeDefined();
      });

      it('asks a question with 2 to 4 answers and stays within about 150 words', () => {
        expect(l.question).toMatch(/\?$/);
        expect(l.choices.length).toBeGreaterThanOrEqual(2);
        expect(l.choices.length).toBeLessThanOrEqual(4);
        expect(lessonWords(l), `${l.name} has ${lessonWords(l)} words`).toBeLessThanOrEqual(165);
      });
    });
  }
});

describe('parseLesson', () => {
  const good = '---\ntitle: T\nprogram: p\nstrategy: none\npreset: zen2\npanels: a, b\nresult: r\nquestion: Q?\nchoice x: X\nchoice y: Y\n---\nOne\nline.\n\nTwo.\n';

  it('reads the front-matter, the choices and the paragraphs', () => {
    const l = parseLesson('01-x', good);
    expect(l).toMatchObject({ title: 'T', program: 'p', strategy: 'none', preset: 'zen2', panels: ['a', 'b'], result: 'r', question: 'Q?' });
    expect(l.choices).toEqual([{ id: 'x', text: 'X' }, { id: 'y', text: 'Y' }]);
    expect(l.paragraphs).toEqual(['One line.', 'Two.']);
  });

  it('names the file and the problem when something is wrong', () => {
    expect(() => parseLesson('bad', 'no front-matter')).toThrow(LessonFormatError);
    expect(() => parseLesson('bad', good.replace('strategy: none', 'strategy: magic'))).toThrow(/bad: unknown strategy "magic"/);
    expect(() => parseLesson('bad', good.replace('choice y: Y\n', ''))).toThrow(/2 to 4 choices/);
    expect(() => parseLesson('bad', good.replace('title: T\n', ''))).toThrow(/missing "title"/);
    expect(() => parseLesson('bad', good.replace('choice y', 'choice x'))).toThrow(/appears twice/);
  });

  it('splits inline code and bold out of a paragraph', () => {
    expect(inlineRuns('a `b` **c** d')).toEqual([
      { kind: 'text', text: 'a ' }, { kind: 'code', text: 'b' }, { kind: 'text', text: ' ' }, { kind: 'bold', text: 'c' }, { kind: 'text', text: ' d' },
    ]);
  });

  it('reads glossary terms as [[term]] or [[shown text|term]], and counts only the shown words', () => {
    expect(inlineRuns('the [[EPT]] and an [[EPT violation|write-protect fault]].')).toEqual([
      { kind: 'text', text: 'the ' }, { kind: 'term', text: 'EPT', term: 'EPT' }, { kind: 'text', text: ' and an ' },
      { kind: 'term', text: 'EPT violation', term: 'write-protect fault' }, { kind: 'text', text: '.' },
    ]);
    expect(markedTerms('[[a]] b [[c|d]]')).toEqual(['a', 'd']);
    const l = parseLesson('01-x', good.replace('One\nline.', 'One [[two words|some long glossary term]].'));
    expect(lessonWords(l)).toBe(lessonWords(parseLesson('01-x', good.replace('One\nline.', 'One two words.'))));
  });
});
