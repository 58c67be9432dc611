package dev.sinew.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.nn.Linear;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import dev.sinew.nn.SinewTestBase;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interop with PyTorch through the fixtures of {@code src/test/python/make_safetensors_golden.py}:
 * PyTorch-saved weights of {@code nn.Sequential(Linear(20,16), ReLU, Linear(16,8), ReLU, Linear(8,4))}
 * load into the same Sinew model and give PyTorch's outputs; every torch dtype loads as documented;
 * and what Sinew writes reads back bit for bit (the script's {@code --verify} mode checks the same
 * files in PyTorch).
 */
class SafetensorsTorchGoldenTest extends SinewTestBase {
    @TempDir
    Path dir;

    static Path golden(String name) {
        URL u = SafetensorsTorchGoldenTest.class.getResource("/golden/io/" + name);
        if (u == null) {
            throw new IllegalStateException("missing test resource golden/io/" + name
                    + " (run src/test/python/make_safetensors_golden.py)");
        }
        try {
            return Path.of(u.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private Sequential mlp(DType dtype) {
        return new Sequential(new Linear(sn, 20, 16, true, dtype, gen), new ReLU(),
                new Linear(sn, 16, 8, true, dtype, gen), new ReLU(), new Linear(sn, 8, 4, true, dtype, gen));
    }

    private static double maxAbsDiff(double[] a, double[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private void checkMlp(String tag, DType dtype, double tol) throws IOException {
        try (Sequential viaStateDict = mlp(dtype); Sequential viaLoadInto = mlp(dtype);
                SafetensorsFile w = Safetensors.open(golden("mlp_" + tag + ".safetensors"));
                SafetensorsFile io = Safetensors.open(golden("mlp_" + tag + "_io.safetensors"))) {
            assertEquals("pt", w.metadata().get("format"));
            assertEquals(List.of("0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"), List.copyOf(w.names()));
            Map<String, Tensor> state = w.loadAll(sn);
            for (Tensor t : state.values()) {
                assertEquals(dtype, t.dtype());
            }
            viaStateDict.loadStateDict(state, true);
            Safetensors.loadInto(viaLoadInto, golden("mlp_" + tag + ".safetensors"), true);

            Tensor x = io.load(sn, "input");
            double[] want = io.load(sn, "output").toDoubleArray();
            try (var _ = sn.noGrad()) {
                double[] a = viaStateDict.forward(x).toDoubleArray();
                double[] b = viaLoadInto.forward(x).toDoubleArray();
                assertArrayEquals(a, b, 0.0);
                double d = maxAbsDiff(a, want);
                assertTrue(d <= tol, tag + ": Sinew vs PyTorch max |diff| " + d + " > " + tol);
            }
        }
    }

    @Test
    void pytorchMlpFloat32GivesPytorchOutputs() throws IOException {
        checkMlp("f32", DType.FLOAT32, 1e-5);
    }

    @Test
    void pytorchMlpFloat64GivesPytorchOutputs() throws IOException {
        checkMlp("f64", DType.FLOAT64, 1e-12);
    }

    @Test
    void everyTorchDtypeLoadsAsDocumented() throws IOException {
        try (SafetensorsFile f = Safetensors.open(golden("dtypes.safetensors"))) {
            int checked = 0;
            for (String name : f.names()) {
                if (!name.startsWith("x.") || name.equals("x.int64_exact")) {
                    continue;
                }
                String kind = name.substring(2);
                Tensor x = f.load(sn, name);
                DType want = switch (kind) {
                    case "float64" -> DType.FLOAT64;
                    case "float32", "float16", "bfloat16" -> DType.FLOAT32;
                    default -> DType.INT64; // int64, int32, int16, int8, uint8, bool
                };
                assertEquals(want, x.dtype(), name);
                assertArrayEquals(new long[] {6, 2}, x.dims(), name); // the transposed view, stored row-major
                assertArrayEquals(f.load(sn, "expected." + kind).toDoubleArray(), x.toDoubleArray(), 0.0, name);
                checked++;
            }
            assertEquals(10, checked);
            assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 3}, f.load(sn, "x.int64_exact").toLongArray());
            assertEquals(SafetensorsDType.BF16, f.info("x.bfloat16").dtype());
            assertEquals(SafetensorsDType.BOOL, f.info("x.bool").dtype());
        }
    }

    @Test
    void sinewWrittenWeightsReadBackBitIdentical() throws IOException {
        try (Sequential m = mlp(DType.FLOAT32)) {
            Safetensors.loadInto(m, golden("mlp_f32.safetensors"), true);
            Tensor x = sn.randn(gen, DType.FLOAT32, 3, 20);
            Tensor y;
            try (var _ = sn.noGrad()) {
                y = m.forward(x);
            }
            // The layout --verify expects: the state dict plus "input" and "output".
            Map<String, Tensor> out = new LinkedHashMap<>(m.stateDict());
            out.put("input", x);
            out.put("output", y);
            Path p = dir.resolve("sinew_mlp.safetensors");
            Safetensors.write(p, out, Map.of("format", "pt"));
            try (SafetensorsFile f = Safetensors.open(p);
                    SafetensorsFile torch = Safetensors.open(golden("mlp_f32.safetensors"))) {
                for (var e : out.entrySet()) {
                    Tensor back = f.load(sn, e.getKey());
                    assertArrayEquals(bits(e.getValue()), bits(back), e.getKey());
                    if (torch.contains(e.getKey())) { // and the weights are PyTorch's, bit for bit
                        assertEquals(torch.raw(e.getKey()).byteSize(), f.raw(e.getKey()).byteSize());
                        assertEquals(-1, torch.raw(e.getKey()).mismatch(f.raw(e.getKey())), e.getKey());
                    }
                }
            }
        }
    }

    private static int[] bits(Tensor t) {
        float[] f = t.toFloatArray();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }
}
