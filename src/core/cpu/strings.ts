/** String instructions (SDM Vol. 2 MOVS/STOS/LODS/CMPS/SCAS, REP prefixes). */
import { Mnemonic } from '../iced';
import type { DInsn } from './decode';
import { DF, FK } from './flags';
import { VcpuAlu } from './alu';

export abstract class VcpuStrings extends VcpuAlu {
  str(d: DInsn): void {
    const M = Mnemonic, mn = d.mn;
    const size = [M.Movsb, M.Stosb, M.Lodsb, M.Cmpsb, M.Scasb].includes(mn) ? 1
      : [M.Movsw, M.Stosw, M.Lodsw, M.Cmpsw, M.Scasw].includes(mn) ? 2
        : [M.Movsd, M.Stosd, M.Lodsd, M.Cmpsd, M.Scasd].includes(mn) ? 4 : 8;
    const kind = mn === M.Movsb || mn === M.Movsw || mn === M.Movsd || mn === M.Movsq ? 0
      : mn === M.Stosb || mn === M.Stosw || mn === M.Stosd || mn === M.Stosq ? 1
        : mn === M.Lodsb || mn === M.Lodsw || mn === M.Lodsd || mn === M.Lodsq ? 2
          : mn === M.Cmpsb || mn === M.Cmpsw || mn === M.Cmpsd || mn === M.Cmpsq ? 3 : 4;
    const a32 = d.asz === 4;
    const rep = d.rep;
    const segBase = d.memSeg === 4 ? this.fsBase : d.memSeg === 5 ? this.gsBase : 0;
    const srcSs = d.memSeg === 2 ? 2 : 0; // an SS override of the source (DS:RSI); ES:RDI never is
    const R = this.gpr;
    const addr = (i: number): number => (a32 ? R[i]! >>> 0 : this.regAddr(i));
    const adv = (i: number, delta: number): void => {
      if (a32) { R[i] = (R[i]! + delta) | 0; R[i + 16] = 0; }
      else this.setRegNum(i, this.regAddr(i) + delta);
    };
    const bulk = rep !== 0 && !a32 && kind <= 1;
    for (;;) {
      if (rep) {
        const cnt = a32 ? R[1]! : R[1]! | R[17]!;
        if (cnt === 0) return;
        if (bulk && (this.rflags & DF) === 0 && this.repChunk(kind, size, segBase)) continue;
      }
      const delta = this.rflags & DF ? -size : size;
      switch (kind) {
        case 0: { // MOVS: [rsi] -> [rdi]
          const v = this.rdN(addr(6) + segBase, size, srcSs);
          const vh = this.resultHi;
          this.wrN(addr(7), size, v, vh);
          adv(6, delta); adv(7, delta);
          break;
        }
        case 1: this.wrN(addr(7), size, R[0]!, R[16]!); adv(7, delta); break;
        case 2: {
          const v = this.rdN(addr(6) + segBase, size, srcSs);
          if (size === 8) { R[0] = v; R[16] = this.resultHi; } else if (size === 4) { R[0] = v; R[16] = 0; }
          else if (size === 2) R[0] = (R[0]! & -65536) | v; else R[0] = (R[0]! & -256) | v;
          adv(6, delta);
          break;
        }
        default: { // CMPS (src - dest) / SCAS (acc - dest)
          let a0: number, a1: number;
          if (kind === 3) { a0 = this.rdN(addr(6) + segBase, size, srcSs); a1 = this.resultHi; }
          else { a0 = size === 1 ? R[0]! & 255 : size === 2 ? R[0]! & 65535 : R[0]!; a1 = R[16]!; }
          const b0 = this.rdN(addr(7), size), b1 = this.resultHi;
          this.setSubLazy(size, a0, a1, b0, b1);
          if (kind === 3) adv(6, delta);
          adv(7, delta);
        }
      }
      if (!rep) return;
      if (a32) { R[1] = (R[1]! - 1) | 0; R[17] = 0; }
      else { const lo = R[1]!; R[1] = (lo - 1) | 0; if (lo === 0) R[17] = (R[17]! - 1) | 0; }
      if (kind >= 3) {
        const zf = this.cond(4);
        if ((rep === 1 && !zf) || (rep === 2 && zf)) return;
      }
    }
  }
  /**
   * REP MOVS / REP STOS forward with 64-bit addresses, a page at a time: the elements that lie
   * in one source page and one destination page are translated once (source first, as the
   * first element's read would be) and moved with one copy, then RSI/RDI/RCX advance by the
   * chunk. Returns false (nothing done) where the per-element loop must run: fewer than 2
   * elements fit, an element crosses a page, an MMIO page, or a forward overlap (element-wise
   * MOVS repeats the pattern there, a memmove would not). Faults leave the state of the last
   * completed chunk, as at an iteration boundary.
   */
  private repChunk(kind: number, size: number, segBase: number): boolean {
    const R = this.gpr;
    const cnt = R[17] !== 0 ? 0x40000000 : R[1]! >>> 0;
    const dst = this.regAddr(7);
    const dOff = dst - Math.floor(dst / 4096) * 4096;
    let n = Math.min(cnt, Math.floor((4096 - dOff) / size));
    let src = 0;
    if (kind === 0) {
      src = this.regAddr(6) + segBase;
      n = Math.min(n, Math.floor((4096 - (src - Math.floor(src / 4096) * 4096)) / size));
    }
    if (n < 2) return false;
    const len = n * size;
    const bytes = this.ram.bytes;
    if (kind === 0) {
      const hs = this.xlate(src, 'read');
      if (hs < 0) return false;
      const hd = this.xlate(dst, 'write', 0, len);
      if (hd < 0 || (hd > hs && hd < hs + len)) return false;
      bytes.copyWithin(hd, hs, hs + len);
      this.setRegNum(6, this.regAddr(6) + len);
    } else {
      const hd = this.xlate(dst, 'write', 0, len);
      if (hd < 0) return false;
      if (size === 1) bytes.fill(R[0]! & 0xff, hd, hd + len);
      else {
        const dv = this.ramView, lo = R[0]!, hi = R[16]!;
        for (let a = hd, end = hd + len; a < end; a += size) {
          if (size === 2) dv.setUint16(a, lo & 0xffff, true);
          else { dv.setInt32(a, lo, true); if (size === 8) dv.setInt32(a + 4, hi, true); }
        }
      }
    }
    this.setRegNum(7, dst + len);
    const lo = (R[1]! >>> 0) - n;
    R[1] = lo | 0;
    if (lo < 0) R[17] = (R[17]! - 1) | 0;
    return true;
  }

  private setSubLazy(size: number, a0: number, a1: number, b0: number, b1: number): void {
    const lg = size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3;
    let r0: number, r1 = 0;
    if (size === 8) { const u = (a0 >>> 0) - (b0 >>> 0); r0 = u | 0; r1 = (a1 - b1 - (u < 0 ? 1 : 0)) | 0; }
    else r0 = size === 4 ? (a0 - b0) | 0 : (a0 - b0) & (size === 2 ? 0xffff : 0xff);
    this.lazyOp = FK.Sub * 4 + lg;
    this.lazyResult = r0; this.lazyResultHi = r1; this.lazyA = a0; this.lazyAHi = a1; this.lazyB = b0; this.lazyBHi = b1;
  }
}
