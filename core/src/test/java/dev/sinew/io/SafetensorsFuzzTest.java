package dev.sinew.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sinew.DType;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of the safetensors reader with Jazzer.
 *
 * <p>In a normal test run (regression mode) {@link #parse} replays its seed corpus from
 * {@code src/test/resources/dev/sinew/io/SafetensorsFuzzTestInputs/parse/} (valid files of several
 * dtypes plus hostile ones) and any crash reproducers saved there. With {@code JAZZER_FUZZ=1} it
 * fuzzes for {@code maxDuration} (30 s; the environment variable {@code JAZZER_MAX_DURATION} overrides it):
 * {@code JAZZER_FUZZ=1 mvn -pl core test -Dtest=SafetensorsFuzzTest}. The plain-JUnit
 * {@link SafetensorsMutationTest} fuzzes for a few seconds in every run regardless.
 *
 * <p>The property: any byte string either opens, with every loadable tensor loading consistently,
 * or is refused with a {@link SafetensorsFormatException}; nothing else escapes.
 */
class SafetensorsFuzzTest {
    private static Sinew sn;

    @BeforeAll
    static void setUp() {
        // Hooks for the classes under test only: Jazzer's agent stays in this JVM for the rest of the
        // module's tests, and would otherwise instrument (and log) every class loaded after it.
        if (System.getProperty("jazzer.instrument") == null) {
            System.setProperty("jazzer.instrument", "dev.sinew.io.**,com.google.gson.stream.**");
        }
        sn = Sinew.use("reference");
    }

    @AfterAll
    static void tearDown() {
        assertEquals(0, sn.backend().liveBuffers());
        sn.close();
    }

    /** The file image is parsed in memory ({@link Safetensors#open(MemorySegment)}): the same code as after mapping a file. */
    @FuzzTest(maxDuration = "30s")
    void parse(byte[] bytes) throws IOException {
        check(sn, bytes);
    }

    /**
     * Opens the file image {@code bytes}; a clean refusal or a consistent success are the only outcomes
     * allowed. Returns whether it opened.
     */
    static boolean check(Sinew sn, byte[] bytes) throws IOException {
        return check(sn, () -> Safetensors.open(MemorySegment.ofArray(bytes)), bytes.length);
    }

    /** {@link #check(Sinew, byte[])} for a file on disk. */
    static boolean check(Sinew sn, Path p) throws IOException {
        return check(sn, () -> Safetensors.open(p), Files.size(p));
    }

    interface Opener {
        SafetensorsFile open() throws IOException;
    }

    private static boolean check(Sinew sn, Opener opener, long size) throws IOException {
        try (SafetensorsFile f = opener.open()) {
            long covered = 0;
            for (TensorInfo t : f.infos()) {
                covered += t.byteLength();
                assertTrue(t.end() <= f.fileSize() - f.dataStart());
                if (t.numel() == 0 || t.numel() > 1 << 20) {
                    continue;
                }
                try (Tensor x = f.load(sn, t.name())) {
                    assertEquals(t.numel(), x.numel());
                    assertEquals(t.dtype().defaultSinewType(), x.dtype());
                    if (x.dtype() != DType.INT64) {
                        x.toDoubleArray();
                    }
                } catch (IllegalArgumentException e) {
                    // the one refusal a well-formed file may earn: a U64 value beyond INT64
                    assertTrue(t.dtype() == SafetensorsDType.U64 && e.getMessage().contains("does not fit"), e.getMessage());
                }
            }
            assertEquals(size, f.dataStart() + covered, "tensors tile the data section");
            return true;
        } catch (SafetensorsFormatException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
            return false;
        }
    }
}
