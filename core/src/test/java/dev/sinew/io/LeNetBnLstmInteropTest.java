package dev.sinew.io;

import static dev.sinew.io.SafetensorsTorchGoldenTest.golden;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Tensor;
import dev.sinew.nn.BatchNorm2d;
import dev.sinew.nn.Conv2d;
import dev.sinew.nn.Flatten;
import dev.sinew.nn.LSTM;
import dev.sinew.nn.Linear;
import dev.sinew.nn.MaxPool2d;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.RnnOptions;
import dev.sinew.nn.Sequential;
import dev.sinew.nn.SinewTestBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Interop with PyTorch for LeNet-5 with BatchNorm2d and for a 2-layer bidirectional LSTM, through the
 * fixtures of {@code src/test/python/make_golden_interop2.py}, in FLOAT32 and FLOAT64.
 *
 * <ul>
 *   <li>PyTorch's LeNet state dict (after one SGD step: moved weights, running statistics,
 *       {@code num_batches_tracked = 1}) loads strictly into the same Sinew model and gives PyTorch's
 *       outputs in evaluation and training mode, where the running statistics then move as PyTorch's
 *       did. The float64 golden is PyTorch's {@code model.double()}: the committed float32 state dict
 *       widens exactly, so the FLOAT64 Sinew model loads the same file (with conversion).</li>
 *   <li>PyTorch's LSTM state dicts ({@code weight_ih_l0}, ..., {@code bias_hh_l1_reverse}), one per
 *       dtype, load strictly and give PyTorch's output and final (h, c), with given and with zero
 *       initial states.</li>
 *   <li>The other way, Sinew-initialised models' state dicts (plus inputs and Sinew's outputs) are left
 *       in {@code target/sinew_lenet_bn_f32.safetensors}, {@code ..._f64}, {@code target/sinew_lstm2bi_f32.safetensors}
 *       and {@code ..._f64}, for {@code make_golden_interop2.py --verify FILE} to check in PyTorch;
 *       here they are checked to carry PyTorch's names, shapes and dtypes and to reload exactly.</li>
 * </ul>
 */
class LeNetBnLstmInteropTest extends SinewTestBase {

    private static final List<String> LENET_NAMES = List.of("0.weight", "0.bias", "1.weight", "1.bias",
            "1.running_mean", "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias", "5.weight", "5.bias",
            "5.running_mean", "5.running_var", "5.num_batches_tracked", "9.weight", "9.bias", "11.weight", "11.bias",
            "13.weight", "13.bias");

    private static final List<String> LSTM_NAMES = List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_ih_l1",
            "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse",
            "bias_ih_l1_reverse", "bias_hh_l1_reverse");

    private static final int[] BN = {1, 5};

    /** LeNet-5 with BatchNorm2d after each conv, on [N, 1, 16, 16]; module indices as PyTorch's nn.Sequential. */
    private Sequential lenet(DType dt) {
        int[] one = {1};
        return new Sequential(
                new Conv2d(sn, 1, 6, new int[] {5}, one, new int[] {2}, one, 1, true, dt, gen), // 0
                new BatchNorm2d(sn, 6, 1e-5, 0.1, true, true, dt), new ReLU(), new MaxPool2d(2), // 1 2 3
                new Conv2d(sn, 6, 16, new int[] {5}, one, new int[] {0}, one, 1, true, dt, gen), // 4
                new BatchNorm2d(sn, 16, 1e-5, 0.1, true, true, dt), new ReLU(), new MaxPool2d(2), new Flatten(), // 5-8
                new Linear(sn, 64, 120, true, dt, gen), new ReLU(), // 9 10
                new Linear(sn, 120, 84, true, dt, gen), new ReLU(), // 11 12
                new Linear(sn, 84, 10, true, dt, gen)); // 13
    }

    private LSTM lstm(DType dt) {
        return new LSTM(sn, RnnOptions.of(5, 7).numLayers(2).bidirectional(true).batchFirst(false).dtype(dt), gen);
    }

    private static double tol(DType dt) {
        return dt == DType.FLOAT32 ? 1e-5 : 1e-12;
    }

    private static String tag(DType dt) {
        return dt == DType.FLOAT32 ? "f32" : "f64";
    }

    private static double maxAbsDiff(Tensor got, Tensor want) {
        assertArrayEquals(want.dims(), got.dims());
        double[] a = got.toDoubleArray();
        double[] b = want.toDoubleArray();
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static void assertClose(Tensor got, Tensor want, double tol, String what) {
        assertEquals(want.dtype(), got.dtype(), what + ": dtype");
        double d = maxAbsDiff(got, want);
        assertTrue(d <= tol, what + ": Sinew vs PyTorch max |diff| " + d + " > " + tol);
    }

    private static Path out(String name) throws IOException {
        Path target = Path.of("target");
        return (Files.isDirectory(target) ? target : Files.createTempDirectory("sinew")).resolve(name);
    }

    // ---- LeNet-5 with BatchNorm2d: PyTorch -> Sinew ----------------------------------------------------

    private void pytorchLenet(DType dt) throws IOException {
        try (Sequential viaLoadInto = lenet(dt); Sequential viaStateDict = lenet(dt);
                SafetensorsFile w = Safetensors.open(golden("lenet_bn.safetensors"));
                SafetensorsFile io = Safetensors.open(golden("lenet_bn_io_" + tag(dt) + ".safetensors"))) {
            assertEquals(LENET_NAMES, List.copyOf(viaLoadInto.stateDict().keySet()));
            assertEquals(List.copyOf(LENET_NAMES.stream().sorted().toList()), List.copyOf(w.names()));
            assertEquals("pt", w.metadata().get("format"));
            Safetensors.loadInto(viaLoadInto, golden("lenet_bn.safetensors"), true);
            viaStateDict.loadStateDict(w.loadAll(sn), true);
            for (var e : viaLoadInto.stateDict().entrySet()) {
                DType want = e.getKey().endsWith("num_batches_tracked") ? DType.INT64 : dt;
                assertEquals(want, e.getValue().dtype(), e.getKey());
                assertArrayEquals(e.getValue().toDoubleArray(), viaStateDict.stateDict().get(e.getKey()).toDoubleArray(),
                        0.0, e.getKey());
            }
            for (int i : BN) {
                assertEquals(1, viaLoadInto.stateDict().get(i + ".num_batches_tracked").item());
            }
            Tensor x = io.load(sn, "input");
            assertEquals(dt, x.dtype());
            double tol = tol(dt);
            for (Sequential m : List.of(viaLoadInto, viaStateDict)) {
                try (var _ = sn.noGrad()) {
                    assertClose(m.eval().forward(x), io.load(sn, "eval_output"), tol, tag(dt) + " evaluation mode");
                    assertClose(m.train().forward(x), io.load(sn, "train_output"), tol, tag(dt) + " training mode");
                }
                var sd = m.stateDict();
                for (int i : BN) {
                    String p = "train." + i + ".";
                    assertClose(sd.get(i + ".running_mean"), io.load(sn, p + "running_mean"), tol / 10,
                            i + ".running_mean after the training-mode pass");
                    assertClose(sd.get(i + ".running_var"), io.load(sn, p + "running_var"), tol / 10,
                            i + ".running_var after the training-mode pass");
                    assertEquals(io.load(sn, p + "num_batches_tracked").item(), sd.get(i + ".num_batches_tracked").item());
                    assertEquals(2, sd.get(i + ".num_batches_tracked").item());
                }
            }
        }
    }

    @Test
    void pytorchLenetWithBatchNormFloat32GivesPytorchOutputs() throws IOException {
        pytorchLenet(DType.FLOAT32);
    }

    @Test
    void pytorchLenetWithBatchNormFloat64GivesPytorchOutputs() throws IOException {
        pytorchLenet(DType.FLOAT64);
    }

    // ---- LeNet-5 with BatchNorm2d: Sinew -> PyTorch ----------------------------------------------------

    private void sinewLenet(DType dt) throws IOException {
        try (Sequential m = lenet(dt); Sequential back = lenet(dt)) {
            try (var _ = sn.noGrad()) { // move the running statistics: num_batches_tracked = 2
                for (int i = 0; i < 2; i++) {
                    m.train().forward(sn.randn(gen, dt, 6, 1, 16, 16).mul(1.5).add(0.3));
                }
            }
            Tensor x = sn.randn(gen, dt, 4, 1, 16, 16);
            Tensor yEval;
            Tensor yTrain;
            Map<String, Tensor> out = new LinkedHashMap<>();
            try (var _ = sn.noGrad()) {
                yEval = m.eval().forward(x);
                for (var e : m.stateDict().entrySet()) { // the state before the training-mode pass below
                    out.put(e.getKey(), e.getValue().copy());
                }
                yTrain = m.train().forward(x);
            }
            out.put("input", x);
            out.put("output", yEval);
            out.put("train_output", yTrain);
            Path p = out("sinew_lenet_bn_" + tag(dt) + ".safetensors");
            Safetensors.write(p, out, Map.of("format", "pt", "writer", "sinew"));
            try (SafetensorsFile f = Safetensors.open(p); SafetensorsFile torch = Safetensors.open(golden("lenet_bn.safetensors"))) {
                SafetensorsDType want = dt == DType.FLOAT32 ? SafetensorsDType.F32 : SafetensorsDType.F64;
                for (String name : torch.names()) {
                    assertEquals(torch.info(name).dtype() == SafetensorsDType.I64 ? SafetensorsDType.I64 : want,
                            f.info(name).dtype(), name);
                    assertArrayEquals(torch.info(name).shape(), f.info(name).shape(), name);
                }
                for (int i : BN) {
                    assertEquals(0, f.info(i + ".num_batches_tracked").rank());
                    assertEquals(2, f.load(sn, i + ".num_batches_tracked").item());
                }
            }
            Safetensors.loadInto(back, p, false); // "input", "output", "train_output" are extra: not strict
            try (var _ = sn.noGrad()) {
                assertArrayEquals(yEval.toDoubleArray(), back.eval().forward(x).toDoubleArray(), 0.0);
                assertArrayEquals(yTrain.toDoubleArray(), back.train().forward(x).toDoubleArray(), 0.0);
            }
        }
    }

    @Test
    void sinewLenetWithBatchNormFloat32KeepsPyTorchNamesAndTypes() throws IOException {
        sinewLenet(DType.FLOAT32);
    }

    @Test
    void sinewLenetWithBatchNormFloat64KeepsPyTorchNamesAndTypes() throws IOException {
        sinewLenet(DType.FLOAT64);
    }

    // ---- 2-layer bidirectional LSTM: PyTorch -> Sinew --------------------------------------------------

    private void pytorchLstm(DType dt) throws IOException {
        try (LSTM viaLoadInto = lstm(dt); LSTM viaStateDict = lstm(dt);
                SafetensorsFile w = Safetensors.open(golden("lstm2bi_" + tag(dt) + ".safetensors"));
                SafetensorsFile io = Safetensors.open(golden("lstm2bi_" + tag(dt) + "_io.safetensors"))) {
            assertEquals(LSTM_NAMES, List.copyOf(viaLoadInto.stateDict().keySet()));
            assertEquals(LSTM_NAMES.stream().sorted().toList(), List.copyOf(w.names()));
            Safetensors.loadInto(viaLoadInto, golden("lstm2bi_" + tag(dt) + ".safetensors"), true);
            Map<String, Tensor> state = w.loadAll(sn);
            for (Tensor t : state.values()) {
                assertEquals(dt, t.dtype());
            }
            viaStateDict.loadStateDict(state, true);
            Tensor x = io.load(sn, "input");
            Tensor h0 = io.load(sn, "h0");
            Tensor c0 = io.load(sn, "c0");
            double tol = tol(dt);
            for (LSTM m : List.of(viaLoadInto, viaStateDict)) {
                try (var _ = sn.noGrad()) {
                    RnnOutput r = m.forward(x, h0, c0);
                    assertClose(r.output(), io.load(sn, "output"), tol, tag(dt) + " output");
                    assertClose(r.hN(), io.load(sn, "h_n"), tol, tag(dt) + " h_n");
                    assertClose(r.cN(), io.load(sn, "c_n"), tol, tag(dt) + " c_n");
                    RnnOutput z = m.forward(x, (Tensor) null, (Tensor) null); // zero initial states
                    assertClose(z.output(), io.load(sn, "output_zero_state"), tol, tag(dt) + " output, zero state");
                    assertClose(z.hN(), io.load(sn, "h_n_zero_state"), tol, tag(dt) + " h_n, zero state");
                    assertClose(z.cN(), io.load(sn, "c_n_zero_state"), tol, tag(dt) + " c_n, zero state");
                }
            }
        }
    }

    @Test
    void pytorchBidirectionalLstmFloat32GivesPytorchOutputsAndStates() throws IOException {
        pytorchLstm(DType.FLOAT32);
    }

    @Test
    void pytorchBidirectionalLstmFloat64GivesPytorchOutputsAndStates() throws IOException {
        pytorchLstm(DType.FLOAT64);
    }

    // ---- 2-layer bidirectional LSTM: Sinew -> PyTorch --------------------------------------------------

    private void sinewLstm(DType dt) throws IOException {
        try (LSTM m = lstm(dt); LSTM back = lstm(dt)) {
            Tensor x = sn.randn(gen, dt, 6, 3, 5);
            Tensor h0 = sn.randn(gen, dt, 4, 3, 7);
            Tensor c0 = sn.randn(gen, dt, 4, 3, 7);
            RnnOutput r;
            try (var _ = sn.noGrad()) {
                r = m.forward(x, h0, c0);
            }
            Map<String, Tensor> out = new LinkedHashMap<>(m.stateDict());
            out.put("input", x);
            out.put("h0", h0);
            out.put("c0", c0);
            out.put("output", r.output());
            out.put("h_n", r.hN());
            out.put("c_n", r.cN());
            Path p = out("sinew_lstm2bi_" + tag(dt) + ".safetensors");
            Safetensors.write(p, out, Map.of("format", "pt", "writer", "sinew"));
            try (SafetensorsFile f = Safetensors.open(p);
                    SafetensorsFile torch = Safetensors.open(golden("lstm2bi_" + tag(dt) + ".safetensors"))) {
                for (String name : torch.names()) {
                    assertEquals(torch.info(name).dtype(), f.info(name).dtype(), name);
                    assertArrayEquals(torch.info(name).shape(), f.info(name).shape(), name);
                }
            }
            Safetensors.loadInto(back, p, false); // the inputs and outputs are extra: not strict
            try (var _ = sn.noGrad()) {
                RnnOutput b = back.forward(x, h0, c0);
                assertArrayEquals(r.output().toDoubleArray(), b.output().toDoubleArray(), 0.0);
                assertArrayEquals(r.hN().toDoubleArray(), b.hN().toDoubleArray(), 0.0);
                assertArrayEquals(r.cN().toDoubleArray(), b.cN().toDoubleArray(), 0.0);
            }
        }
    }

    @Test
    void sinewBidirectionalLstmFloat32KeepsPyTorchNamesAndTypes() throws IOException {
        sinewLstm(DType.FLOAT32);
    }

    @Test
    void sinewBidirectionalLstmFloat64KeepsPyTorchNamesAndTypes() throws IOException {
        sinewLstm(DType.FLOAT64);
    }
}
