package dev.sinew.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deterministic mutation fuzzer that runs in every build (fixed seed, fixed count, a few seconds): valid files, written by Sinew and taken from the Jazzer seed corpus, are corrupted by bit
 * flips, byte overwrites, truncations, insertions and deletions, by edits of the header's numbers,
 * dtypes and keys, and by lies in the length field; every mutant must either load consistently or be
 * refused with a {@link SafetensorsFormatException} ({@link SafetensorsFuzzTest#check}). Jazzer's
 * coverage-guided {@link SafetensorsFuzzTest} goes deeper when run with {@code JAZZER_FUZZ=1}.
 */
class SafetensorsMutationTest {
    private static final int MUTANTS = 50_000;
    private static final String[] NUMBERS = {"0", "1", "-1", "7", "8", "16", "4294967296", "9223372036854775807",
        "9223372036854775808", "18446744073709551615", "1e3", "1.5", "-0", "00", "999999999999"};
    private static final String[] TOKENS = {"F32", "F64", "F16", "BF16", "I64", "BOOL", "U8", "F8_E4M3", "X",
        "\"", "{", "}", "[", "]", ",", ":", "null", "true", "\"__metadata__\"", "\\u0000", "\\", " "};

    @TempDir
    Path dir;

    private List<byte[]> seeds(Sinew sn) throws IOException {
        List<byte[]> out = new ArrayList<>();
        Generator g = new Generator(3);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("0.weight", sn.randn(g, DType.FLOAT32, 3, 4));
        m.put("0.bias", sn.randn(g, DType.FLOAT64, 3));
        m.put("steps", sn.arange(5));
        m.put("s", sn.scalar(1, DType.FLOAT32));
        Path p = dir.resolve("seed.safetensors");
        Safetensors.write(p, m, Map.of("format", "pt"));
        out.add(Files.readAllBytes(p));
        for (Tensor t : m.values()) {
            t.close();
        }
        out.add(RawFile.valid(3));
        for (String name : new String[] {"valid_f32_f64", "valid_small_types", "overlap", "dup"}) {
            try (InputStream in = getClass().getResourceAsStream("SafetensorsFuzzTestInputs/parse/" + name)) {
                out.add(in.readAllBytes());
            }
        }
        return out;
    }

    @Test
    void mutantsLoadCleanlyOrAreRefused() throws IOException {
        SplittableRandom rnd = new SplittableRandom(20240601);
        Path p = dir.resolve("mutant.safetensors");
        try (Sinew sn = Sinew.use("reference")) {
            List<byte[]> seeds = seeds(sn);
            int opened = 0;
            for (int i = 0; i < MUTANTS; i++) {
                byte[] m = seeds.get(rnd.nextInt(seeds.size()));
                int rounds = 1 + rnd.nextInt(3);
                for (int r = 0; r < rounds; r++) {
                    m = mutate(m, rnd);
                }
                try {
                    boolean ok = SafetensorsFuzzTest.check(sn, m);
                    if (i % 200 == 0) { // now and then through a real file and its mapping
                        Files.write(p, m);
                        assertEquals(ok, SafetensorsFuzzTest.check(sn, p));
                    }
                    opened += ok ? 1 : 0;
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("mutant " + i + " (" + m.length + " bytes, hex "
                            + java.util.HexFormat.of().formatHex(m, 0, Math.min(m.length, 400)) + "): " + e, e);
                }
            }
            System.out.println("safetensors mutation fuzz: " + MUTANTS + " mutants, " + opened + " opened, "
                    + (MUTANTS - opened) + " refused with SafetensorsFormatException");
            assertTrue(opened > 0 && opened < MUTANTS, "mutants should sometimes open, sometimes not: " + opened);
            assertTrue(sn.backend().liveBuffers() == 0);
        }
    }

    private static byte[] mutate(byte[] in, SplittableRandom rnd) {
        byte[] b = in.clone();
        int n = b.length;
        long hlen = n >= 8 ? ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0) : 0;
        int hEnd = (int) Math.min(n, 8 + Math.max(0, Math.min(hlen, n)));
        switch (rnd.nextInt(9)) {
            case 0 -> { // flip a bit
                if (n > 0) {
                    int i = rnd.nextInt(n);
                    b[i] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> { // overwrite a header byte with a JSON-significant one
                if (hEnd > 8) {
                    b[8 + rnd.nextInt(hEnd - 8)] = (byte) "{}[]\",:0123456789-.e \\\u00ff".charAt(rnd.nextInt(23));
                }
            }
            case 2 -> { // truncate
                return Arrays.copyOf(b, n == 0 ? 0 : rnd.nextInt(n));
            }
            case 3 -> { // delete a range
                if (n > 1) {
                    int from = rnd.nextInt(n);
                    int to = Math.min(n, from + 1 + rnd.nextInt(8));
                    byte[] out = new byte[n - (to - from)];
                    System.arraycopy(b, 0, out, 0, from);
                    System.arraycopy(b, to, out, from, n - to);
                    return out;
                }
            }
            case 4 -> { // insert random bytes
                int at = n == 0 ? 0 : rnd.nextInt(n + 1);
                byte[] ins = new byte[1 + rnd.nextInt(8)];
                rnd.nextBytes(ins);
                byte[] out = new byte[n + ins.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(ins, 0, out, at, ins.length);
                System.arraycopy(b, at, out, at + ins.length, n - at);
                return out;
            }
            case 5 -> { // lie in the length field, keeping or not the header
                if (n >= 8) {
                    long[] lies = {hlen + 1, hlen - 1, hlen + 8, 0, n, n - 8, Long.MAX_VALUE, -1, 100_000_001, 2};
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, lies[rnd.nextInt(lies.length)]);
                }
            }
            case 6 -> { // replace a number in the header
                return replaceInHeader(b, hEnd, rnd, "[0-9]+", NUMBERS[rnd.nextInt(NUMBERS.length)]);
            }
            case 7 -> { // replace a dtype or a quoted key with another token
                return replaceInHeader(b, hEnd, rnd, "\"[A-Za-z0-9_.]+\"",
                        rnd.nextBoolean() ? "\"" + TOKENS[rnd.nextInt(9)] + "\"" : TOKENS[rnd.nextInt(TOKENS.length)]);
            }
            default -> { // duplicate a header slice (entries, keys)
                if (hEnd > 10) {
                    int from = 8 + rnd.nextInt(hEnd - 8);
                    int len = Math.min(hEnd - from, 1 + rnd.nextInt(60));
                    byte[] out = new byte[n + len];
                    System.arraycopy(b, 0, out, 0, from + len);
                    System.arraycopy(b, from, out, from + len, n - from);
                    return fixLength(out, hlen + len);
                }
            }
        }
        return b;
    }

    /** Replaces one match of {@code regex} in the header text, keeping the length field true. */
    private static byte[] replaceInHeader(byte[] b, int hEnd, SplittableRandom rnd, String regex, String with) {
        if (hEnd <= 8) {
            return b;
        }
        String h = new String(b, 8, hEnd - 8, StandardCharsets.ISO_8859_1);
        var matcher = java.util.regex.Pattern.compile(regex).matcher(h);
        List<int[]> spans = new ArrayList<>();
        while (matcher.find()) {
            spans.add(new int[] {matcher.start(), matcher.end()});
        }
        if (spans.isEmpty()) {
            return b;
        }
        int[] s = spans.get(rnd.nextInt(spans.size()));
        String nh = h.substring(0, s[0]) + with + h.substring(s[1]);
        byte[] nhb = nh.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[8 + nhb.length + (b.length - hEnd)];
        System.arraycopy(nhb, 0, out, 8, nhb.length);
        System.arraycopy(b, hEnd, out, 8 + nhb.length, b.length - hEnd);
        return fixLength(out, nhb.length);
    }

    private static byte[] fixLength(byte[] b, long len) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
        return b;
    }
}
