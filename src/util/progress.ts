/**
 * Progress for long jobs: on a TTY a single redrawn line with count, rate and ETA; when stderr is not a
 * TTY, nothing unless `DENSEKIT_PROGRESS=json`, which prints one JSON line per update (for log collectors).
 */
export interface ProgressOptions {
  label: string;
  total?: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between redraws. */
  intervalMs?: number;
  /** Counts are bytes: shown as kB / MB / GB (and MB/s). */
  bytes?: boolean;
}

export class Progress {
  private done = 0;
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly mode: 'tty' | 'json' | 'quiet';

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.mode = this.stream.isTTY ? 'tty' : process.env.DENSEKIT_PROGRESS === 'json' ? 'json' : 'quiet';
  }

  /** Items per second since start. */
  get rate(): number {
    const s = (performance.now() - this.start) / 1000;
    return s > 0 ? this.done / s : 0;
  }
  get elapsedSeconds(): number {
    return (performance.now() - this.start) / 1000;
  }
  get count(): number {
    return this.done;
  }

  tick(n = 1): void {
    this.done += n;
    const now = performance.now();
    if (now - this.lastDraw >= (this.opts.intervalMs ?? (this.mode === 'json' ? 5000 : 200))) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  finish(): void {
    this.draw(true);
  }

  private draw(final: boolean): void {
    if (this.mode === 'quiet') return;
    const { label, total, unit = 'items' } = this.opts;
    const rate = this.rate;
    const eta = total !== undefined && rate > 0 ? (total - this.done) / rate : undefined;
    if (this.mode === 'json') {
      this.stream.write(
        JSON.stringify({ progress: label, done: this.done, total, rate: round(rate), eta_s: eta === undefined ? undefined : round(eta) }) + '\n',
      );
      return;
    }
    const pct = total ? ` ${((100 * this.done) / total).toFixed(1)}%` : '';
    const etaText = eta !== undefined && !final ? ` ETA ${formatDuration(eta)}` : ` ${formatDuration(this.elapsedSeconds)}`;
    if (this.opts.bytes) {
      const of = total !== undefined ? `/${formatBytes(total)}` : '';
      this.stream.write(`\r\x1b[K${label}: ${formatBytes(this.done)}${of}${pct} ${formatBytes(rate)}/s${etaText}${final ? '\n' : ''}`);
      return;
    }
    const of = total !== undefined ? `/${total}` : '';
    this.stream.write(`\r\x1b[K${label}: ${this.done}${of}${pct} ${unit} ${rate.toFixed(1)} ${unit}/s${etaText}${final ? '\n' : ''}`);
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
