package dev.sinew.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sinew.Sinew;
import dev.sinew.io.Checkpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills {@code sinew train --checkpoint DIR --every 1} with SIGKILL again and again, at different
 * moments (often while a checkpoint is being written), resuming each time from what the folder holds:
 * after every kill the folder must hold a complete checkpoint that reads back (format, sizes,
 * checksums) and resumes, and every loss any of the runs printed must equal, bit for bit, the loss of
 * the same step in a run never interrupted.
 *
 * <p>The runs are separate JVMs started with this test's class path; {@link Process#destroyForcibly()}
 * is SIGKILL on Linux. A tiny model keeps the test to a few tens of seconds. It runs on the CPU backend
 * with two threads where that backend is available (the bit-identity claim is made for it), else on the
 * reference backend.
 */
class CheckpointKillTest {
    private static final int KILLS = 24;

    @TempDir
    Path tmp;

    private Process spawn(List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectOutput(log.toFile()).redirectError(log.resolveSibling(
                log.getFileName() + ".err").toFile()).start();
    }

    /** Whether a save is under way: its temporary folder exists. */
    private static boolean writing(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(".tmp-"))) {
            return ds.iterator().hasNext();
        }
    }

    /** Whether the log shows a finished training step. */
    private static boolean stepped(Path log) throws IOException {
        return Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains("\nstep ");
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aRunKilledAtAnyMomentLeavesACheckpointThatResumesWithTheSameLosses() throws Exception {
        Path data = MainTest.syntheticData(tmp.resolve("data"), 44, 12);
        Path dir = tmp.resolve("ck");
        // The CPU backend with a fixed thread count where it is built and usable, else the reference backend.
        boolean cpu = Sinew.providers().stream().anyMatch(p -> p.name().equals("cpu") && p.availability().available());
        List<String> common = List.of("train", "--model", "tiny-mlp", "--epochs", "1000", "--batch", "8", "--seed", "11",
                "--backend", cpu ? "cpu" : "reference", "--threads", cpu ? "2" : "1", "--data", data.toString(),
                "--no-progress", "--print-losses", "--checkpoint", dir.toString(), "--every", "1");
        Random random = new Random(2024);
        Map<Long, String> printed = new HashMap<>(); // step -> loss, from every run; must agree with itself
        int kills = 0;
        int duringWrite = 0;
        long lastStep = -1;
        List<Long> stepsAfterKills = new ArrayList<>();
        for (int run = 0; kills < KILLS; run++) {
            List<String> args = new ArrayList<>(common);
            if (lastStep >= 0) {
                args.addAll(List.of("--resume", dir.toString()));
            }
            Path log = tmp.resolve("run" + run + ".log");
            Process p = spawn(args, log);
            try {
                // Vary the moment: inside a save (seen by polling for its temporary folder), early or a
                // little later, or at a random point of the training loop.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!stepped(log) && p.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                // The very first run is let finish its first checkpoint: before it there is nothing to keep.
                while (!Files.exists(dir.resolve(Checkpoint.LATEST)) && p.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                switch (run % 3) {
                    case 0, 1 -> {
                        // Let 0-3 saves complete, then strike during the next one: 0-2 ms into it, or 3-10 ms.
                        int skip = random.nextInt(4);
                        for (int seen = 0; p.isAlive() && System.nanoTime() < deadline; seen++) {
                            while (!writing(dir) && p.isAlive() && System.nanoTime() < deadline) {
                                Thread.onSpinWait();
                            }
                            if (seen == skip) {
                                break;
                            }
                            while (writing(dir) && p.isAlive() && System.nanoTime() < deadline) {
                                Thread.onSpinWait();
                            }
                        }
                        Thread.sleep(run % 3 == 0 ? random.nextInt(3) : 3 + random.nextInt(8));
                    }
                    default -> Thread.sleep(random.nextInt(300)); // anywhere in the loop
                }
                if (!p.isAlive()) {
                    fail("run " + run + " ended by itself with exit code " + p.exitValue() + ": "
                            + Files.readString(log.resolveSibling(log.getFileName() + ".err")));
                }
                p.destroyForcibly(); // SIGKILL
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            } finally {
                p.destroyForcibly();
            }
            kills++;
            if (writing(dir)) {
                duringWrite++;
            }
            // The folder holds a complete checkpoint, never older than the one before the kill.
            Checkpoint ck = Checkpoint.read(dir);
            assertTrue(ck.step() >= lastStep, "step went back from " + lastStep + " to " + ck.step());
            assertTrue(ck.step() >= 1);
            lastStep = ck.step();
            stepsAfterKills.add(lastStep);
            // Every loss printed by this run agrees with what earlier runs printed for the same step.
            String out = Files.readString(log);
            out = out.substring(0, out.lastIndexOf('\n') + 1); // complete lines only: the kill may cut the last
            for (var e : CheckpointResumeTest.losses(out).entrySet()) {
                String before = printed.putIfAbsent(e.getKey(), e.getValue());
                if (before != null) {
                    assertEquals(before, e.getValue(), "run " + run + ", step " + e.getKey() + " after a resume");
                }
            }
        }
        // One more resume, in this JVM, to the end of the current epoch plus one: it must work too.
        int epochNow = Checkpoint.read(dir).loader().epoch();
        MainTest.Result last = MainTest.run(withEpochs(common, epochNow + 1, dir));
        assertEquals(0, last.code(), last.err());
        Map<Long, String> lastLosses = CheckpointResumeTest.losses(last.out());
        assertFalse(lastLosses.isEmpty());
        lastLosses.forEach((k, v) -> {
            String before = printed.putIfAbsent(k, v);
            if (before != null) {
                assertEquals(before, v, "final resume, step " + k);
            }
        });
        // And all of it equals a run never interrupted.
        long maxStep = printed.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
        int epochs = (int) (maxStep / 6 + 1);
        List<String> plain = new ArrayList<>(common.subList(0, common.indexOf("--checkpoint")));
        plain.set(plain.indexOf("1000"), Integer.toString(epochs));
        MainTest.Result whole = MainTest.run(plain.toArray(String[]::new));
        assertEquals(0, whole.code(), whole.err());
        Map<Long, String> expected = CheckpointResumeTest.losses(whole.out());
        for (var e : printed.entrySet()) {
            assertEquals(expected.get(e.getKey()), e.getValue(), "step " + e.getKey());
        }
        for (long s = 1; s <= maxStep; s++) {
            assertTrue(printed.containsKey(s), "step " + s + " was trained by one of the runs");
        }
        System.out.printf("CheckpointKillTest (%s backend): %d SIGKILLs (%d while a save was under way), checkpoint"
                + " steps %s, %d steps compared%n", cpu ? "cpu" : "reference", kills, duringWrite, stepsAfterKills,
                printed.size());
        assertTrue(kills >= 20);
    }

    private static String[] withEpochs(List<String> common, int epochs, Path dir) {
        List<String> a = new ArrayList<>(common);
        a.set(a.indexOf("1000"), Integer.toString(epochs));
        a.addAll(List.of("--resume", dir.toString()));
        return a.toArray(String[]::new);
    }
}
