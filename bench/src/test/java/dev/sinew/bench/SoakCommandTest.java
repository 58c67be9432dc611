package dev.sinew.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code sinew soak}: a short run reports steady memory; bad values are usage errors. */
class SoakCommandTest {
    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new String[] {Integer.toString(code), out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void shortSoakIsSteady() {
        String[] r = run("soak", "--backend", "reference", "--steps", "12", "--report-every", "4", "--batch", "2");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("soak: steady"), r[1]);
    }

    @Test
    void badValuesAreUsageErrors() {
        String[] r = run("soak", "--steps", "0");
        assertEquals("2", r[0]);
        assertTrue(r[2].startsWith("sinew: "), r[2]);
        r = run("soak", "--model", "resnet");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("resnet"), r[2]);
    }
}
