/**
 * A lesson is one Markdown file (src/lessons/NN-name.md): front-matter between `---` lines
 * naming its program, configuration, panels, question and answers, then the lesson text.
 *
 *   ---
 *   title: A VM exit, stage by stage
 *   program: lapic-read-once          a scenario name (src/scenarios/<name>.s)
 *   strategy: none                    none | icache | decode-assist | apicv
 *   preset: nehalem-2014              a cost preset (src/core/cost.ts)
 *   panels: pipeline, walk, log       panel ids to spotlight (src/ui/panelRegistry.ts)
 *   result: vmExit                    the function in results.ts that reads the run
 *   question: Which costs more ...?
 *   choice find: Finding the instruction     2 to 4 answers: `choice <id>: text`
 *   choice emulate: Emulating it
 *   ---
 *   Text: paragraphs separated by blank lines; `code`, **bold** and glossary terms inline:
 *   [[EPT]] or [[EPT violation|write-protect fault]] (shown text | term in the glossary).
 *
 * The parser is deliberately small: one `key: value` per line, no nesting, no quoting.
 */
import { STRATEGIES, type Strategy } from '../worker/protocol';

export interface LessonChoice {
  id: string;
  text: string;
}

export interface Lesson {
  /** File name without the extension, e.g. `01-vm-exit`. */
  name: string;
  title: string;
  program: string;
  strategy: Strategy;
  preset: string;
  panels: string[];
  result: string;
  question: string;
  choices: LessonChoice[];
  /** Paragraphs of the lesson text. */
  paragraphs: string[];
}

export class LessonFormatError extends Error {}

const REQUIRED = ['title', 'program', 'strategy', 'preset', 'panels', 'result', 'question'] as const;

/** Parses one lesson file; throws LessonFormatError naming the file and what is wrong. */
export function parseLesson(name: string, text: string): Lesson {
  const fail = (msg: string): never => {
    throw new LessonFormatError(`${name}: ${msg}`);
  };
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[0]?.trim() !== '---') fail('must start with a --- front-matter line');
  const end = lines.indexOf('---', 1);
  if (end < 0) fail('front-matter is not closed by a --- line');
  const fields = new Map<string, string>();
  const choices: LessonChoice[] = [];
  for (const line of lines.slice(1, end)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^([a-z]+)(?:\s+([a-z0-9-]+))?\s*:\s*(.*)$/.exec(line);
    if (!m) fail(`cannot read front-matter line "${line}"`);
    const [, key, id, value] = m!;
    if (key === 'choice') {
      if (!id) fail('a choice needs an id: "choice <id>: text"');
      if (choices.some((c) => c.id === id)) fail(`choice "${id}" appears twice`);
      choices.push({ id: id!, text: value.trim() });
      continue;
    }
    if (id) fail(`unexpected "${key} ${id}"`);
    if (fields.has(key)) fail(`"${key}" appears twice`);
    fields.set(key, value.trim());
  }
  for (const k of REQUIRED) if (!fields.get(k)) fail(`missing "${k}"`);
  const strategy = fields.get('strategy')!;
  if (!(STRATEGIES as readonly string[]).includes(strategy)) fail(`unknown strategy "${strategy}"`);
  if (choices.length < 2 || choices.length > 4) fail(`needs 2 to 4 choices, has ${choices.length}`);
  const paragraphs = lines.slice(end + 1).join('\n').split(/\n\s*\n/).map((p) => p.replace(/\s*\n\s*/g, ' ').trim()).filter((p) => p !== '');
  if (paragraphs.length === 0) fail('has no text after the front-matter');
  return {
    name,
    title: fields.get('title')!,
    program: fields.get('program')!,
    strategy: strategy as Strategy,
    preset: fields.get('preset')!,
    panels: fields.get('panels')!.split(',').map((p) => p.trim()).filter((p) => p !== ''),
    result: fields.get('result')!,
    question: fields.get('question')!,
    choices,
    paragraphs,
  };
}

/** Words of the lesson's text, question and answers (the budget is about 150). */
export function lessonWords(l: Lesson): number {
  const shown = l.paragraphs.map((p) => inlineRuns(p).map((r) => r.text).join(''));
  const text = [...shown, l.question, ...l.choices.map((c) => c.text)].join(' ');
  return text.split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w)).length;
}

/**
 * Inline runs of a paragraph: plain text, `code`, **bold**, and glossary terms written
 * [[term]] or [[shown text|term]] (the term as src/ui/glossary/terms.ts names it).
 */
export type InlineRun =
  | { kind: 'text' | 'code' | 'bold'; text: string }
  | { kind: 'term'; text: string; term: string };

const INLINE = /`([^`]+)`|\*\*([^*]+)\*\*|\[\[([^\]|]+)(?:\|([^\]|]+))?\]\]/g;

export function inlineRuns(paragraph: string): InlineRun[] {
  const runs: InlineRun[] = [];
  const re = new RegExp(INLINE);
  let last = 0;
  for (let m = re.exec(paragraph); m !== null; m = re.exec(paragraph)) {
    if (m.index > last) runs.push({ kind: 'text', text: paragraph.slice(last, m.index) });
    if (m[1] !== undefined) runs.push({ kind: 'code', text: m[1] });
    else if (m[2] !== undefined) runs.push({ kind: 'bold', text: m[2] });
    else runs.push({ kind: 'term', text: m[3]!.trim(), term: (m[4] ?? m[3]!).trim() });
    last = m.index + m[0].length;
  }
  if (last < paragraph.length) runs.push({ kind: 'text', text: paragraph.slice(last) });
  return runs;
}

/** The glossary terms a paragraph marks with [[...]]. */
export function markedTerms(paragraph: string): string[] {
  return inlineRuns(paragraph).flatMap((r) => (r.kind === 'term' ? [r.term] : []));
}
