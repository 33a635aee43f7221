/**
 * The assembler's diagnostics and their one printed form. Apart from the assembler (index.ts
 * re-exports them), so the page can print one without loading iced's encoder.
 */

export interface Diagnostic { file: string; line: number; col: number; severity: 'error' | 'warning'; message: string; }

/** "file:line:col: error: message", the form compilers and editors understand. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
}
