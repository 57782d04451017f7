import cliProgress from 'cli-progress';

const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_FRAME_MS = 100;

/** Progress shown on stderr while a command works; nothing at all when stderr is no terminal. */
export interface ProgressDisplay {
  update(value: number, message?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

const SILENT: ProgressDisplay = { update() {}, setTotal() {}, stop() {} };

function isInteractive(): boolean {
  return process.stderr.isTTY === true;
}

/**
 * A bar on stderr, redrawn in place, counting `unit` up to `total` (or only a percentage
 * without a unit); silent off a terminal.
 */
export function progressBar(label: string, total: number, unit?: string): ProgressDisplay {
  if (!isInteractive()) return SILENT;
  const counts = unit === undefined ? '' : ` | {value}/{total} ${unit}`;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}%${counts} {message}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { message: '' });
  return {
    update: (value, message) => bar.update(value, message === undefined ? {} : { message }),
    setTotal: (value) => bar.setTotal(value),
    stop: () => bar.stop(),
  };
}

/** A spinner with a changing message on stderr, for work of unknown length; silent off a TTY. */
export function spinner(initialMessage: string): ProgressDisplay & { say(message: string): void } {
  if (!isInteractive()) return { ...SILENT, say() {} };
  let frame = 0;
  let message = initialMessage;
  const bar = new cliProgress.SingleBar({
    format: '{spinner} {message}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(1, 0, { spinner: SPINNER_FRAMES[0], message });
  const timer = setInterval(() => {
    frame = (frame + 1) % SPINNER_FRAMES.length;
    bar.update({ spinner: SPINNER_FRAMES[frame], message });
  }, SPINNER_FRAME_MS);
  timer.unref();
  return {
    update() {},
    setTotal() {},
    say(next: string) {
      message = next;
    },
    stop() {
      clearInterval(timer);
      bar.stop();
    },
  };
}
