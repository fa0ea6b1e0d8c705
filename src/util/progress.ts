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
  /** The first update: rates and ETAs are measured from it, so start-up (loading a model) never skews them. */
  private first: { time: number; done: number } | undefined;
  private note = '';
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

  /** Items per second measured between the first update and now; undefined until two updates were seen. */
  private get measuredRate(): number | undefined {
    if (!this.first || this.done <= this.first.done) return undefined;
    const s = (performance.now() - this.first.time) / 1000;
    return s > 0 ? (this.done - this.first.done) / s : undefined;
  }
  get elapsedSeconds(): number {
    return (performance.now() - this.start) / 1000;
  }
  get count(): number {
    return this.done;
  }

  /** `note`: a short status shown after the count (e.g. the current loss). */
  tick(n = 1, note?: string): void {
    this.done += n;
    if (note !== undefined) this.note = note;
    const now = performance.now();
    if (!this.first) {
      this.first = { time: now, done: this.done };
      return;
    }
    if (now - this.lastDraw >= (this.opts.intervalMs ?? (this.mode === 'json' ? 5000 : 200))) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  finish(): void {
    this.draw(true);
  }

  /** On a TTY, prints a line above the progress line and redraws it; elsewhere prints nothing. */
  message(line: string): void {
    if (this.mode !== 'tty') return;
    this.stream.write(`\r\x1b[K${line}\n`);
    if (this.first) this.draw(false);
  }

  /** Whether this progress draws on a terminal. */
  get onTerminal(): boolean {
    return this.mode === 'tty';
  }

  private draw(final: boolean): void {
    if (this.mode === 'quiet') return;
    const { label, total, unit = 'items' } = this.opts;
    const rate = final ? this.rate : this.measuredRate;
    const eta = total !== undefined && rate !== undefined && rate > 0 ? (total - this.done) / rate : undefined;
    if (this.mode === 'json') {
      this.stream.write(
        JSON.stringify({
          progress: label, done: this.done, total, rate: rate === undefined ? undefined : round(rate), eta_s: eta === undefined ? undefined : round(eta),
          ...(this.note ? { note: this.note } : {}),
        }) + '\n',
      );
      return;
    }
    const pct = total ? ` ${((100 * this.done) / total).toFixed(1)}%` : '';
    const of = total !== undefined ? `/${total}` : '';
    const etaText = final ? ` ${formatDuration(this.elapsedSeconds)}` : eta !== undefined ? ` ETA ${formatDuration(eta)}` : '';
    const note = this.note ? ` ${this.note}` : '';
    if (this.opts.bytes) {
      const ofBytes = total !== undefined ? `/${formatBytes(total)}` : '';
      const byteRate = rate !== undefined ? ` ${formatBytes(rate)}/s` : '';
      this.stream.write(`\r\x1b[K${label}: ${formatBytes(this.done)}${ofBytes}${pct}${note}${byteRate}${etaText}${final ? '\n' : ''}`);
      return;
    }
    const rateText = rate !== undefined ? ` ${rate.toFixed(1)} ${unit}/s` : '';
    this.stream.write(`\r\x1b[K${label}: ${this.done}${of}${pct} ${unit}${note}${rateText}${etaText}${final ? '\n' : ''}`);
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
