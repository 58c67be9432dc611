package dev.sinew.bench.cli;

import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressState;

/**
 * Renders a training progress line that fits the terminal, giving room to the numbers first and
 * to the bar last: {@code epoch 1/2  45% [=====>     ] 212/469 0:05<0:06 loss 0.4321 acc 0.8123 5,421 samples/s}
 * (elapsed, then estimated time left). Stateless; called on the progress bar's refresh thread.
 */
final class CompactRenderer implements ProgressBarRenderer {
    private static final int MAX_BAR = 30;
    private static final int MIN_BAR = 6;

    @Override
    public String render(ProgressState s, int maxLength) {
        long cur = s.getCurrent();
        long max = Math.max(1, s.getMax());
        Duration elapsed = s.getTotalElapsed();
        String eta = cur > 0 && cur < max
                ? time(elapsed.multipliedBy(max - cur).dividedBy(cur))
                : cur >= max ? "0:00" : "?";
        String head = String.format(Locale.ROOT, "%s %3d%% ", s.getTaskName(), (int) (100 * cur / max));
        String tail = String.format(Locale.ROOT, " %d/%d %s<%s", cur, max, time(elapsed), eta);
        String extra = s.getExtraMessage() == null || s.getExtraMessage().isEmpty() ? "" : " " + s.getExtraMessage();
        int room = maxLength - 1 - head.length() - tail.length() - extra.length() - 2;
        String line;
        if (room >= MIN_BAR) {
            int width = Math.min(MAX_BAR, room);
            int filled = (int) (width * cur / max);
            StringBuilder bar = new StringBuilder(width + 2).append('[');
            for (int i = 0; i < width; i++) {
                bar.append(i < filled ? '=' : i == filled ? '>' : ' ');
            }
            line = head + bar.append(']') + tail + extra;
        } else {
            line = head.stripTrailing() + tail + extra;
        }
        return maxLength > 0 && line.length() >= maxLength ? line.substring(0, Math.max(0, maxLength - 1)) : line;
    }

    private static String time(Duration d) {
        long t = d.toSeconds();
        return t >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
                : String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
    }
}
