package dev.sinew.bench.cli;

import dev.sinew.bench.train.TrainListener;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * A live progress bar per epoch on a stream (standard error): step / steps, ETA, the last
 * step's loss, the running accuracy and samples per second. The bar is closed (its line
 * finished) at the end of each epoch's training pass.
 *
 * <p>On a terminal the line is redrawn in place four times a second. When standard error is not a
 * terminal (a log file, CI), the same line is printed as a plain line every few seconds instead,
 * so logs stay readable. The {@code ./sinew} launcher says which through the system property
 * {@value #TERMINAL_PROPERTY}; without it, a console whose input and output are terminals counts.
 *
 * <p>Owns at most one {@link ProgressBar} at a time (with its refresh thread); {@link #close()}
 * ends it if a run stops early. Used from the training thread only.
 */
final class ProgressBarListener implements TrainListener, AutoCloseable {
    /** System property: {@code true} when standard error is a terminal (set by {@code ./sinew}). */
    static final String TERMINAL_PROPERTY = "sinew.stderrIsTerminal";

    private static final int LOG_INTERVAL_MILLIS = 5000;
    private static final int LOG_WIDTH = 120;

    private final PrintStream stream;
    private final int epochs;
    private final int columns; // from COLUMNS when set, else the library asks the terminal
    private final boolean terminal;
    private ProgressBar bar;
    private long epochStart;
    private int samplesBefore; // samples of the epoch trained before a resume

    ProgressBarListener(PrintStream stream, int epochs) {
        this.stream = stream;
        this.epochs = epochs;
        this.columns = columnsFromEnvironment();
        this.terminal = stderrIsTerminal();
    }

    private static boolean stderrIsTerminal() {
        String p = System.getProperty(TERMINAL_PROPERTY);
        if (p != null && !p.isBlank()) {
            return Boolean.parseBoolean(p.trim());
        }
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    private static int columnsFromEnvironment() {
        try {
            String c = System.getenv("COLUMNS");
            return c == null ? 0 : Math.max(0, Integer.parseInt(c.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public void epochStarted(int epoch, int steps, int samples) {
        close();
        epochStart = System.nanoTime();
        samplesBefore = 0;
        bar = new ProgressBarBuilder()
                .setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs))
                .setInitialMax(steps)
                .setUpdateIntervalMillis(terminal ? 250 : LOG_INTERVAL_MILLIS)
                .setRenderer(new CompactRenderer())
                .setConsumer(!terminal ? new DelegatingProgressBarConsumer(new LinePrinter(stream), LOG_WIDTH)
                        : columns > 0 ? new ConsoleProgressBarConsumer(stream, columns)
                        : new ConsoleProgressBarConsumer(stream))
                .build();
    }

    @Override
    public void epochResumed(int epoch, int steps, int samples, int stepsDone, int samplesDone) {
        epochStarted(epoch, steps, samples);
        samplesBefore = samplesDone;
        bar.stepTo(stepsDone);
    }

    @Override
    public void stepDone(int epoch, int step, int samplesSoFar, double loss, double runningAccuracy) {
        if (bar == null) {
            return;
        }
        double seconds = (System.nanoTime() - epochStart) / 1e9;
        double rate = seconds > 0 ? (samplesSoFar - samplesBefore) / seconds : 0;
        bar.stepTo(step);
        bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f acc %.4f %,.0f samples/s", loss, runningAccuracy, rate));
    }

    @Override
    public void epochTrained(int epoch) {
        close();
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    /** Prints each rendered line once (the bar renders its final state twice when it closes). */
    private static final class LinePrinter implements java.util.function.Consumer<String> {
        private final PrintStream stream;
        private String last;

        LinePrinter(PrintStream stream) {
            this.stream = stream;
        }

        @Override
        public synchronized void accept(String line) {
            if (!line.equals(last)) {
                stream.println(line);
                last = line;
            }
        }
    }
}
