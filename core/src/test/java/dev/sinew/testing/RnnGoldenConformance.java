package dev.sinew.testing;

import static dev.sinew.testing.ConvGoldenConformance.assertRelative;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.GRU;
import dev.sinew.nn.GRUCell;
import dev.sinew.nn.LSTM;
import dev.sinew.nn.LSTMCell;
import dev.sinew.nn.RNN;
import dev.sinew.nn.RNNBase;
import dev.sinew.nn.RNNCell;
import dev.sinew.nn.RNNCellBase;
import dev.sinew.nn.RnnOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Recurrent layers against PyTorch 1.13, from the safetensors fixtures written by
 * {@code core/src/test/python/make_golden_rnn.py}: {@code nn.RNN} (tanh, relu), {@code nn.LSTM} (with
 * and without {@code proj_size}) and {@code nn.GRU} — single layer, 2-layer stacked (dropout 0),
 * bidirectional, batch-first, with given h0/c0, without bias, and variable lengths (PyTorch's packed
 * sequences) — checking the output, the final states and the gradients of the input, the initial
 * states and every parameter; and the three cells over two steps. The module's state-dict names must
 * be PyTorch's, in PyTorch's order. Run by any backend: subclasses say which with {@link #createSinew()}.
 *
 * <p>Every case runs in FLOAT64 and FLOAT32 on the same inputs (drawn as float32, exact in both),
 * against PyTorch's float64 results, with the relative error of
 * {@link ConvGoldenConformance#assertRelative} at most 1e-10 (FLOAT64) or 1e-4 (FLOAT32). The
 * gradients are those of {@code L = Σ y⊙dy + Σ hN⊙dhN + Σ cN⊙dcN}.
 *
 * <p>Lifecycle: the fixtures are opened once per class; a context per test; each case runs in its own
 * scope and must leave no live buffer behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class RnnGoldenConformance {
    private static final DType[] DTYPES = {DType.FLOAT64, DType.FLOAT32};

    private GoldenFile layers;
    private GoldenFile cells;
    protected Sinew sn;

    /** The context under test; the suite closes it. */
    protected abstract Sinew createSinew();

    /** The largest relative error allowed for results computed in {@code dt}. */
    protected double relativeTolerance(DType dt) {
        return dt == DType.FLOAT64 ? 1e-10 : 1e-4;
    }

    @BeforeAll
    final void openFixtures() {
        layers = GoldenFile.open("/golden/rnn/rnn.safetensors");
        cells = GoldenFile.open("/golden/rnn/cells.safetensors");
    }

    @AfterAll
    final void closeFixtures() {
        for (GoldenFile f : new GoldenFile[] {layers, cells}) {
            if (f != null) {
                f.close();
            }
        }
    }

    @BeforeEach
    final void open() {
        sn = createSinew();
    }

    @AfterEach
    final void closeAndCheckLeaks() {
        long live = sn.backend().liveBuffers();
        sn.close();
        assertEquals(0, live, "live buffers left after the test");
    }

    @FunctionalInterface
    private interface CaseBody {
        void run(GoldenFile f, String name, JsonObject meta, DType dt);
    }

    private Stream<DynamicTest> each(GoldenFile f, CaseBody body) {
        List<DynamicTest> tests = new ArrayList<>();
        for (String c : f.cases()) {
            for (DType dt : DTYPES) {
                tests.add(DynamicTest.dynamicTest(c + " " + dt, () -> {
                    long before = sn.backend().liveBuffers();
                    try (var _ = sn.scope()) {
                        body.run(f, c, f.meta(c), dt);
                    }
                    assertEquals(before, sn.backend().liveBuffers(), c + " " + dt + ": live buffers after the case");
                }));
            }
        }
        if (tests.isEmpty()) {
            fail("no golden cases");
        }
        return tests.stream();
    }

    private static List<String> strings(JsonElement e) {
        List<String> out = new ArrayList<>();
        for (JsonElement s : e.getAsJsonArray()) {
            out.add(s.getAsString());
        }
        return out;
    }

    private static long[] lengths(JsonObject m) {
        JsonElement e = m.get("lengths");
        if (e == null || e.isJsonNull()) {
            return null;
        }
        var a = e.getAsJsonArray();
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }

    private Map<String, Tensor> state(GoldenFile f, String c, List<String> names, DType dt) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String n : names) {
            m.put(n, f.load(sn, c + "." + n, dt));
        }
        return m;
    }

    // ---- layers ------------------------------------------------------------------------------

    private RNNBase layer(JsonObject m, DType dt) {
        RnnOptions o = RnnOptions.of(m.get("input_size").getAsLong(), m.get("hidden_size").getAsLong())
                .numLayers(m.get("num_layers").getAsInt()).bidirectional(m.get("bidirectional").getAsBoolean())
                .batchFirst(m.get("batch_first").getAsBoolean()).bias(m.get("bias").getAsBoolean())
                .projSize(m.get("proj_size").getAsLong()).dtype(dt);
        Generator g = new Generator(3);
        return switch (m.get("mode").getAsString()) {
            case "RNN_TANH" -> new RNN(sn, o, RNN.Nonlinearity.TANH, g);
            case "RNN_RELU" -> new RNN(sn, o, RNN.Nonlinearity.RELU, g);
            case "LSTM" -> new LSTM(sn, o, g);
            case "GRU" -> new GRU(sn, o, g);
            default -> throw new IllegalStateException("unknown mode " + m);
        };
    }

    /**
     * {@code nn.RNN/LSTM/GRU} with the fixture's parameters: output, final states and every gradient,
     * and the state-dict names.
     */
    @TestFactory
    Stream<DynamicTest> layers() {
        return each(layers, (f, c, m, dt) -> {
            try (RNNBase layer = layer(m, dt)) {
                assertEquals(strings(m.get("state_dict")), new ArrayList<>(layer.stateDict().keySet()),
                        c + ": state-dict names and order");
                List<String> names = strings(m.get("names"));
                layer.loadStateDict(state(f, c, names, dt), true);
                Tensor x = f.load(sn, c + ".x", dt).requiresGrad(true);
                Tensor h0 = f.has(c + ".h0") ? f.load(sn, c + ".h0", dt).requiresGrad(true) : null;
                Tensor c0 = f.has(c + ".c0") ? f.load(sn, c + ".c0", dt).requiresGrad(true) : null;
                long[] len = lengths(m);
                RnnOutput o = layer instanceof LSTM lstm ? lstm.forward(x, h0, c0, len) : layer.forward(x, h0, len);
                check(f, c, "y", o.output(), dt);
                check(f, c, "hn", o.hN(), dt);
                Tensor loss = o.output().mul(f.load(sn, c + ".dy", dt)).sum()
                        .add(o.hN().mul(f.load(sn, c + ".dhn", dt)).sum());
                if (f.has(c + ".cn")) {
                    check(f, c, "cn", o.cN(), dt);
                    loss = loss.add(o.cN().mul(f.load(sn, c + ".dcn", dt)).sum());
                }
                loss.backward();
                check(f, c, "dx", x.grad(), dt);
                if (h0 != null) {
                    check(f, c, "dh0", h0.grad(), dt);
                }
                if (c0 != null) {
                    check(f, c, "dc0", c0.grad(), dt);
                }
                var params = layer.namedParameters();
                for (String n : names) {
                    check(f, c, "d" + n, params.get(n).grad(), dt);
                }
            }
        });
    }

    // ---- cells -------------------------------------------------------------------------------

    private RNNCellBase cell(JsonObject m, DType dt) {
        long in = m.get("input_size").getAsLong();
        long hid = m.get("hidden_size").getAsLong();
        boolean bias = m.get("bias").getAsBoolean();
        Generator g = new Generator(5);
        return switch (m.get("mode").getAsString()) {
            case "RNN_TANH" -> new RNNCell(sn, in, hid, bias, RNN.Nonlinearity.TANH, dt, g);
            case "RNN_RELU" -> new RNNCell(sn, in, hid, bias, RNN.Nonlinearity.RELU, dt, g);
            case "LSTM" -> new LSTMCell(sn, in, hid, bias, dt, g);
            case "GRU" -> new GRUCell(sn, in, hid, bias, dt, g);
            default -> throw new IllegalStateException("unknown cell " + m);
        };
    }

    /** Two steps of each cell from a given state: both states, and gradients of inputs, state and parameters. */
    @TestFactory
    Stream<DynamicTest> cells() {
        return each(cells, (f, c, m, dt) -> {
            try (RNNCellBase cell = cell(m, dt)) {
                List<String> names = strings(m.get("names"));
                assertEquals(names, new ArrayList<>(cell.stateDict().keySet()), c + ": state-dict names");
                cell.loadStateDict(state(f, c, names, dt), true);
                Tensor x1 = f.load(sn, c + ".x1", dt).requiresGrad(true);
                Tensor x2 = f.load(sn, c + ".x2", dt).requiresGrad(true);
                Tensor h0 = f.load(sn, c + ".h0", dt).requiresGrad(true);
                Tensor loss;
                Tensor c0 = null;
                if (cell instanceof LSTMCell lc) {
                    c0 = f.load(sn, c + ".c0", dt).requiresGrad(true);
                    LSTMCell.State s1 = lc.forward(x1, h0, c0);
                    LSTMCell.State s2 = lc.forward(x2, s1);
                    check(f, c, "h1", s1.h(), dt);
                    check(f, c, "c1", s1.c(), dt);
                    check(f, c, "h2", s2.h(), dt);
                    check(f, c, "c2", s2.c(), dt);
                    loss = s2.h().mul(f.load(sn, c + ".dh2", dt)).sum().add(s1.h().sum())
                            .add(s2.c().mul(f.load(sn, c + ".dc2", dt)).sum());
                } else {
                    Tensor h1 = cell instanceof RNNCell rc ? rc.forward(x1, h0) : ((GRUCell) cell).forward(x1, h0);
                    Tensor h2 = cell instanceof RNNCell rc ? rc.forward(x2, h1) : ((GRUCell) cell).forward(x2, h1);
                    check(f, c, "h1", h1, dt);
                    check(f, c, "h2", h2, dt);
                    loss = h2.mul(f.load(sn, c + ".dh2", dt)).sum().add(h1.sum());
                }
                loss.backward();
                check(f, c, "dx1", x1.grad(), dt);
                check(f, c, "dx2", x2.grad(), dt);
                check(f, c, "dh0", h0.grad(), dt);
                if (c0 != null) {
                    check(f, c, "dc0", c0.grad(), dt);
                }
                var params = cell.namedParameters();
                for (String n : names) {
                    check(f, c, "d" + n, params.get(n).grad(), dt);
                }
            }
        });
    }

    // ---- comparison --------------------------------------------------------------------------

    private void check(GoldenFile f, String c, String what, Tensor actual, DType dt) {
        String name = c + "." + what;
        assertNotNull(actual, name + ": no tensor (a gradient that was not computed?)");
        assertArrayEquals(f.shape(name), actual.dims(), name + ": shape");
        assertEquals(dt, actual.dtype(), name + ": dtype");
        assertRelative(name + " " + dt, f.doubles(sn, name), actual.toDoubleArray(), relativeTolerance(dt));
    }
}
