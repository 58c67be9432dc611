package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sinew.DType;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the PyTorch golden fixtures under {@code src/test/resources/golden/} (written by
 * {@code src/test/python/make_golden_nn_optim.py}) and compares results against them.
 *
 * <p>A minimal JSON reader (objects → {@link LinkedHashMap}, arrays → {@link List}, numbers →
 * {@link Double}, strings, booleans, null) so the tests need no JSON library. A tensor is
 * {@code {"shape": [..], "data": [..]}}.
 */
public final class Golden {
    private final String text;
    private int pos;

    private Golden(String text) {
        this.text = text;
    }

    /** Parses {@code golden/<name>} from the test class path. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> load(String name) {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource golden/" + name
                        + " (run src/test/python/make_golden_nn_optim.py)");
            }
            Golden p = new Golden(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            Object v = p.value();
            p.ws();
            if (p.pos != p.text.length()) {
                throw new IllegalStateException("golden/" + name + ": trailing data at " + p.pos);
            }
            return (Map<String, Object>) v;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- access helpers ------------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    public static Map<String, Object> obj(Object o, String key) {
        Object v = ((Map<String, Object>) o).get(key);
        if (v == null) {
            throw new IllegalStateException("golden: no key '" + key + "'");
        }
        return (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    public static Object get(Object o, String key) {
        return ((Map<String, Object>) o).get(key);
    }

    public static double num(Object o, String key) {
        return ((Number) get(o, key)).doubleValue();
    }

    /** Row-major values of a tensor object. */
    @SuppressWarnings("unchecked")
    public static double[] data(Object tensor) {
        List<Object> d = (List<Object>) ((Map<String, Object>) tensor).get("data");
        double[] out = new double[d.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) d.get(i)).doubleValue();
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    public static long[] shape(Object tensor) {
        List<Object> d = (List<Object>) ((Map<String, Object>) tensor).get("shape");
        long[] out = new long[d.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) d.get(i)).longValue();
        }
        return out;
    }

    /** A new tensor (owned by the current scope) with the fixture's values in {@code dtype}. */
    public static Tensor tensor(Sinew sn, Object tensor, DType dtype) {
        double[] d = data(tensor);
        long[] s = shape(tensor);
        return switch (dtype) {
            case FLOAT64 -> sn.fromArray(d, s);
            case FLOAT32 -> {
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    f[i] = (float) d[i];
                }
                yield sn.fromArray(f, s);
            }
            case INT64 -> {
                long[] l = new long[d.length];
                for (int i = 0; i < d.length; i++) {
                    l[i] = (long) d[i];
                }
                yield sn.fromArray(l, s);
            }
        };
    }

    /** Relative tolerance of a dtype for golden comparisons. */
    public static double tol(DType dtype) {
        return dtype == DType.FLOAT64 ? 1e-10 : 1e-5;
    }

    /**
     * Asserts {@code |a − e| ≤ tol·max(|e|, 1)} element-wise (relative, with an absolute floor at
     * magnitude 1), and equal shapes; prints the first mismatches.
     */
    public static void assertClose(String what, Object expectedTensor, Tensor actual, double tol) {
        assertArrayEquals(shape(expectedTensor), actual.dims(), what + ": shape");
        assertClose(what, data(expectedTensor), actual.toDoubleArray(), tol);
    }

    public static void assertClose(String what, double[] expected, double[] actual, double tol) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        StringBuilder bad = new StringBuilder();
        int n = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a) : Math.abs(a - e) <= tol * Math.max(Math.abs(e), 1.0);
            if (!ok && n++ < 5) {
                bad.append(String.format("%n  [%d] expected %.17g got %.17g (diff %.3g)", i, e, a, a - e));
            }
        }
        if (n > 0) {
            fail(what + ": " + n + " of " + expected.length + " values differ beyond " + tol + bad);
        }
    }

    public static void assertClose(String what, double expected, double actual, double tol) {
        assertClose(what, new double[] {expected}, new double[] {actual}, tol);
    }

    // ---- parser --------------------------------------------------------------------------------

    private void ws() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private Object value() {
        ws();
        char c = text.charAt(pos);
        switch (c) {
            case '{' -> {
                pos++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (text.charAt(pos) == '}') {
                    pos++;
                    return m;
                }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                    if (text.charAt(pos) == ',') {
                        pos++;
                    } else {
                        expect('}');
                        return m;
                    }
                }
            }
            case '[' -> {
                pos++;
                List<Object> l = new ArrayList<>();
                ws();
                if (text.charAt(pos) == ']') {
                    pos++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    ws();
                    if (text.charAt(pos) == ',') {
                        pos++;
                    } else {
                        expect(']');
                        return l;
                    }
                }
            }
            case '"' -> {
                return string();
            }
            default -> {
                if (text.startsWith("true", pos)) {
                    pos += 4;
                    return Boolean.TRUE;
                }
                if (text.startsWith("false", pos)) {
                    pos += 5;
                    return Boolean.FALSE;
                }
                if (text.startsWith("null", pos)) {
                    pos += 4;
                    return null;
                }
                if (text.startsWith("NaN", pos)) {
                    pos += 3;
                    return Double.NaN;
                }
                if (text.startsWith("Infinity", pos)) {
                    pos += 8;
                    return Double.POSITIVE_INFINITY;
                }
                if (text.startsWith("-Infinity", pos)) {
                    pos += 9;
                    return Double.NEGATIVE_INFINITY;
                }
                int start = pos;
                while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
                    pos++;
                }
                if (start == pos) {
                    throw new IllegalStateException("golden: unexpected '" + c + "' at " + pos);
                }
                return Double.parseDouble(text.substring(start, pos));
            }
        }
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = text.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                char e = text.charAt(pos++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> sb.append(e);
                }
            } else {
                sb.append(c);
            }
        }
    }

    private void expect(char c) {
        if (pos >= text.length() || text.charAt(pos) != c) {
            throw new IllegalStateException("golden: expected '" + c + "' at " + pos);
        }
        pos++;
    }
}
