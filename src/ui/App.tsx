import { useEffect, useState } from 'react';

export function App() {
  const [text, setText] = useState<string[]>([]);
  useEffect(() => {
    const w = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<{ text: string[] }>) => setText(e.data.text);
    w.postMessage({ bytes: [0x48, 0x89, 0xd8, 0xf4] });
    return () => w.terminate();
  }, []);
  return <pre data-testid="decoded">{text.join('\n')}</pre>;
}
