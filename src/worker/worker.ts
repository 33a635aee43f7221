/// <reference lib="webworker" />
// The Worker entry sets its message handler synchronously: iced-x86 loads with top-level await,
// and a module Worker drops messages that arrive before its handler exists. Commands that
// arrive while the core is loading are queued and replayed in order.
type Msg = { bytes: number[] };
const pending: Msg[] = [];
let handle: ((m: Msg) => void) | null = null;
self.onmessage = (e: MessageEvent<Msg>) => (handle ? handle(e.data) : pending.push(e.data));

void import('../core/iced').then(({ Decoder, DecoderOptions, Formatter, FormatterSyntax }) => {
  handle = (m) => {
    const decoder = new Decoder(64, new Uint8Array(m.bytes), DecoderOptions.None);
    const formatter = new Formatter(FormatterSyntax.Intel);
    const out: string[] = [];
    while (decoder.canDecode) {
      const insn = decoder.decode();
      out.push(formatter.format(insn));
      insn.free();
    }
    decoder.free();
    formatter.free();
    (self as unknown as Worker).postMessage({ text: out });
  };
  for (const m of pending.splice(0)) handle(m);
});
