export function tally(name: string, status: number, counts: { passed: number; failed: number } | null): { passed: number; failed: number; problem: string | null };
