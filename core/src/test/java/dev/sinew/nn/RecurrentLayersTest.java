package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Tensor;
import dev.sinew.optim.Adam;
import dev.sinew.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link RNN}, {@link LSTM}, {@link GRU} and the cells beyond the PyTorch golden files: names and
 * initialisation, bad input, dropout between layers, batch layouts, variable-length semantics, cells
 * against layers, no reserve under no-grad, and the four sequence shapes of the seeds.
 */
class RecurrentLayersTest extends SinewTestBase {
    private static final Tolerance F64 = new Tolerance(1e-12, 1e-10);

    private Tensor randn(DType dt, long... shape) {
        return sn.normal(gen, 0, 1, dt, shape);
    }

    @Test
    void parameterNamesShapesAndInitialisationArePyTorchs() {
        RnnOptions o = RnnOptions.of(3, 5).numLayers(2).bidirectional(true).projSize(2);
        try (LSTM lstm = new LSTM(sn, o, gen)) {
            assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
                    "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                    "weight_hr_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "weight_hr_l1",
                    "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
                    "weight_hr_l1_reverse"), new ArrayList<>(lstm.stateDict().keySet()));
            Map<String, Tensor> p = lstm.namedParameters();
            assertArrayEquals(new long[] {20, 3}, p.get("weight_ih_l0").dims());
            assertArrayEquals(new long[] {20, 2}, p.get("weight_hh_l0").dims());
            assertArrayEquals(new long[] {2, 5}, p.get("weight_hr_l0").dims());
            assertArrayEquals(new long[] {20, 4}, p.get("weight_ih_l1_reverse").dims()); // D·P = 4 inputs
            double bound = 1 / Math.sqrt(5);
            for (Tensor t : p.values()) {
                for (double v : t.toDoubleArray()) {
                    assertTrue(v >= -bound && v < bound, "U(-1/sqrt(H), 1/sqrt(H)), got " + v);
                }
            }
            assertEquals(2 * (20 * 3 + 20 * 2 + 40 + 10) + 2 * (20 * 4 + 20 * 2 + 40 + 10), lstm.numParameters());
            assertEquals("LSTM(3, 5, proj_size=2, num_layers=2, bidirectional=True)", lstm.toString());
        }
        try (GRU gru = new GRU(sn, RnnOptions.of(4, 3).bias(false), gen);
                RNN rnn = new RNN(sn, RnnOptions.of(4, 3).batchFirst(true), RNN.Nonlinearity.RELU, gen)) {
            assertEquals(List.of("weight_ih_l0", "weight_hh_l0"), new ArrayList<>(gru.stateDict().keySet()));
            assertEquals(9 * 4 + 9 * 3, gru.numParameters());
            assertEquals("RNN(4, 3, nonlinearity='relu', batch_first=True)", rnn.toString());
        }
    }

    @Test
    void badInputIsAClearErrorNamingTheShapes() {
        try (LSTM lstm = new LSTM(sn, RnnOptions.of(3, 4), gen);
                GRU bf = new GRU(sn, RnnOptions.of(3, 4).batchFirst(true), gen)) {
            Tensor x = randn(DType.FLOAT32, 5, 2, 3); // [T, B, I]
            String m = assertThrows(IllegalArgumentException.class, () -> lstm.forward(randn(DType.FLOAT32, 5, 2, 4)))
                    .getMessage();
            assertTrue(m.contains("[5, 2, 4]") && m.contains("4 features") && m.contains("input_size 3"), m);
            m = assertThrows(IllegalArgumentException.class, () -> lstm.forward(x, null, null, new long[] {5, 0}))
                    .getMessage();
            assertTrue(m.contains("lengths[1] = 0") && m.contains("length 0"), m);
            m = assertThrows(IllegalArgumentException.class, () -> lstm.forward(x, null, null, new long[] {5, 2, 1}))
                    .getMessage();
            assertTrue(m.contains("lengths has 3 entries") && m.contains("batch of 2"), m);
            m = assertThrows(IllegalArgumentException.class, () -> lstm.forward(x, null, null, new long[] {6, 2}))
                    .getMessage();
            assertTrue(m.contains("lengths[0] = 6") && m.contains("longer than the 5 steps") && m.contains("[5, 2, 3]"),
                    m);
            m = assertThrows(IllegalArgumentException.class, () -> lstm.forward(x, randn(DType.FLOAT32, 1, 3, 4)))
                    .getMessage();
            assertTrue(m.contains("h0 has shape [1, 3, 4], expected [1, 2, 4]"), m);
            m = assertThrows(IllegalArgumentException.class, () -> lstm.forward(x, null, randn(DType.FLOAT32, 2, 2, 4)))
                    .getMessage();
            assertTrue(m.contains("c0 has shape [2, 2, 4], expected [1, 2, 4]"), m);
            m = assertThrows(IllegalArgumentException.class, () -> lstm.forward(randn(DType.FLOAT64, 5, 2, 3)))
                    .getMessage();
            assertTrue(m.contains("FLOAT64") && m.contains("FLOAT32"), m);
            m = assertThrows(IllegalArgumentException.class, () -> lstm.forward(randn(DType.FLOAT32, 2, 5, 2, 3)))
                    .getMessage();
            assertTrue(m.contains("[2, 5, 2, 3]"), m);
            // batch-first: the messages speak of the user's layout
            m = assertThrows(IllegalArgumentException.class, () -> bf.forward(randn(DType.FLOAT32, 2, 5, 3), null,
                    new long[] {5, 7})).getMessage();
            assertTrue(m.contains("longer than the 5 steps") && m.contains("[B, T, 3]"), m);
        }
        assertThrows(IllegalArgumentException.class, () -> new GRU(sn, RnnOptions.of(3, 4).projSize(2), gen));
        assertThrows(IllegalArgumentException.class, () -> new LSTM(sn, RnnOptions.of(3, 4).projSize(4), gen));
        assertThrows(IllegalArgumentException.class, () -> RnnOptions.of(3, 4).dropout(1.5));
        assertThrows(IllegalArgumentException.class, () -> RnnOptions.of(0, 4));
    }

    @Test
    void batchFirstAndUnbatchedAgreeWithTimeMajor() {
        RnnOptions o = RnnOptions.of(3, 4).numLayers(2).bidirectional(true).dtype(DType.FLOAT64);
        try (GRU tm = new GRU(sn, o, new Generator(9)); GRU bf = new GRU(sn, o.batchFirst(true), new Generator(9))) {
            Tensor x = randn(DType.FLOAT64, 5, 2, 3);
            Tensor h0 = randn(DType.FLOAT64, 4, 2, 4);
            long[] len = {3, 5};
            RnnOutput a = tm.forward(x, h0, len);
            RnnOutput b = bf.forward(x.transpose(0, 1), h0, len);
            F64.assertClose("batch-first output", a.output().toDoubleArray(),
                    b.output().transpose(0, 1).toDoubleArray());
            F64.assertClose("batch-first hN", a.hN().toDoubleArray(), b.hN().toDoubleArray());
            RnnOutput one = tm.forward(x.slice(1, 1, 2).squeeze(1), h0.slice(1, 1, 2).squeeze(1), new long[] {5});
            assertArrayEquals(new long[] {5, 8}, one.output().dims());
            F64.assertClose("unbatched output", a.output().slice(1, 1, 2).toDoubleArray(), one.output().toDoubleArray());
            F64.assertClose("unbatched hN", a.hN().slice(1, 1, 2).toDoubleArray(), one.hN().toDoubleArray());
        }
    }

    /**
     * A sequence of length L in a padded batch gives what it gives alone, cut to L steps: zeros after
     * its end, the final state at its own end, and the reverse direction started there.
     */
    @Test
    void variableLengthsBehaveLikeEachSequenceAlone() {
        RnnOptions o = RnnOptions.of(3, 4).numLayers(2).bidirectional(true).dtype(DType.FLOAT64);
        try (LSTM lstm = new LSTM(sn, o, gen)) {
            Tensor x = randn(DType.FLOAT64, 6, 3, 3);
            Tensor h0 = randn(DType.FLOAT64, 4, 3, 4);
            Tensor c0 = randn(DType.FLOAT64, 4, 3, 4);
            long[] len = {2, 6, 4};
            RnnOutput all = lstm.forward(x, h0, c0, len);
            for (int b = 0; b < 3; b++) {
                long l = len[b];
                RnnOutput alone = lstm.forward(x.slice(0, 0, l).slice(1, b, b + 1), h0.slice(1, b, b + 1),
                        c0.slice(1, b, b + 1));
                F64.assertClose("sequence " + b + " output", alone.output().toDoubleArray(),
                        all.output().slice(0, 0, l).slice(1, b, b + 1).toDoubleArray());
                F64.assertClose("sequence " + b + " hN", alone.hN().toDoubleArray(),
                        all.hN().slice(1, b, b + 1).toDoubleArray());
                F64.assertClose("sequence " + b + " cN", alone.cN().toDoubleArray(),
                        all.cN().slice(1, b, b + 1).toDoubleArray());
                if (l < 6) {
                    for (double v : all.output().slice(0, l, 6).slice(1, b, b + 1).toDoubleArray()) {
                        assertEquals(0.0, v, "output past the end of sequence " + b);
                    }
                }
            }
        }
    }

    @Test
    void dropoutActsBetweenLayersOnlyInTraining() {
        RnnOptions o = RnnOptions.of(3, 4).numLayers(2).dtype(DType.FLOAT64);
        Tensor x = randn(DType.FLOAT64, 5, 2, 3);
        try (GRU plain = new GRU(sn, o, new Generator(1)); GRU drop = new GRU(sn, o.dropout(0.5), new Generator(1));
                GRU all = new GRU(sn, o.dropout(1.0), new Generator(1));
                GRU top = new GRU(sn, RnnOptions.of(4, 4).dtype(DType.FLOAT64), new Generator(2));
                GRU single = new GRU(sn, RnnOptions.of(3, 4).dropout(0.5).dtype(DType.FLOAT64), new Generator(3));
                GRU singleRef = new GRU(sn, RnnOptions.of(3, 4).dtype(DType.FLOAT64), new Generator(3))) {
            double[] ref = plain.forward(x).toDoubleArray();
            double[] trained = drop.forward(x).toDoubleArray();
            assertFalse(java.util.Arrays.equals(ref, trained), "dropout changed nothing in training");
            drop.eval();
            F64.assertClose("eval ignores dropout", ref, drop.forward(x).toDoubleArray());
            // p = 1: the second layer sees zeros, so the output is that layer run on a zero input
            Map<String, Tensor> layer1 = Map.of("weight_ih_l0", all.namedParameters().get("weight_ih_l1"),
                    "weight_hh_l0", all.namedParameters().get("weight_hh_l1"),
                    "bias_ih_l0", all.namedParameters().get("bias_ih_l1"),
                    "bias_hh_l0", all.namedParameters().get("bias_hh_l1"));
            top.loadStateDict(layer1, true);
            F64.assertClose("dropout 1 between layers", top.forward(sn.zeros(DType.FLOAT64, 5, 2, 4)).toDoubleArray(),
                    all.forward(x).toDoubleArray());
            // never after the last layer
            F64.assertClose("no dropout after the last layer", singleRef.forward(x).toDoubleArray(),
                    single.forward(x).toDoubleArray());
        }
    }

    /** Stepping a cell with a layer's weights reproduces the layer at every step. */
    @Test
    void cellsStepLikeTheirLayers() {
        DType dt = DType.FLOAT64;
        Tensor x = randn(dt, 4, 2, 3);
        Tensor h0 = randn(dt, 1, 2, 5);
        Tensor c0 = randn(dt, 1, 2, 5);
        try (LSTM lstm = new LSTM(sn, RnnOptions.of(3, 5).dtype(dt), gen);
                LSTMCell cell = new LSTMCell(sn, 3, 5, true, dt, gen);
                GRU gru = new GRU(sn, RnnOptions.of(3, 5).dtype(dt), gen);
                GRUCell gcell = new GRUCell(sn, 3, 5, true, dt, gen);
                RNN rnn = new RNN(sn, RnnOptions.of(3, 5).dtype(dt), RNN.Nonlinearity.RELU, gen);
                RNNCell rcell = new RNNCell(sn, 3, 5, true, RNN.Nonlinearity.RELU, dt, gen)) {
            for (var pair : List.of(List.<Module>of(lstm, cell), List.<Module>of(gru, gcell), List.<Module>of(rnn, rcell))) {
                RNNBase layer = (RNNBase) pair.get(0);
                RNNCellBase c = (RNNCellBase) pair.get(1);
                for (int i = 0; i < c.weights().size(); i++) {
                    try (var _ = sn.noGrad()) {
                        c.weights().get(i).copy_(layer.weights().get(i));
                    }
                }
                RnnOutput full = layer instanceof LSTM l ? l.forward(x, h0, c0) : layer.forward(x, h0);
                Tensor h = h0.squeeze(0);
                Tensor cs = c0.squeeze(0);
                for (int t = 0; t < 4; t++) {
                    Tensor xt = x.slice(0, t, t + 1).squeeze(0);
                    if (c instanceof LSTMCell lc) {
                        LSTMCell.State s = lc.forward(xt, h, cs);
                        h = s.h();
                        cs = s.c();
                    } else if (c instanceof GRUCell gc) {
                        h = gc.forward(xt, h);
                    } else {
                        h = ((RNNCell) c).forward(xt, h);
                    }
                    F64.assertClose(layer.getClass().getSimpleName() + " step " + t,
                            full.output().slice(0, t, t + 1).toDoubleArray(), h.toDoubleArray());
                }
                if (full.cN() != null) {
                    F64.assertClose("LSTM cN", full.cN().toDoubleArray(), cs.toDoubleArray());
                }
            }
            // unbatched cell input
            Tensor one = cell.forward(x.slice(0, 0, 1).slice(1, 0, 1).reshape(3), null).h();
            assertArrayEquals(new long[] {5}, one.dims());
            String m = assertThrows(IllegalArgumentException.class, () -> gcell.forward(randn(dt, 2, 3),
                    randn(dt, 3, 5))).getMessage();
            assertTrue(m.contains("state h has shape [3, 5], expected [2, 5]"), m);
        }
    }

    @Test
    void inferenceRecordsNothing() {
        try (LSTM lstm = new LSTM(sn, 3, 4, gen)) {
            Tensor x = randn(DType.FLOAT32, 5, 2, 3);
            try (var _ = sn.noGrad()) {
                RnnOutput o = lstm.forward(x, null, (Tensor) null);
                assertFalse(o.output().requiresGrad());
                assertNull(o.output().gradFnName());
            }
            RnnOutput o = lstm.forward(x, null, (Tensor) null);
            assertTrue(o.output().requiresGrad());
            assertNotNull(o.cN());
        }
    }

    /**
     * The four sequence shapes of the seeds, each trained for a few Adam steps on a toy target so that
     * the loss must fall: one-to-one (T = 1), one-to-many (an {@link LSTMCell} fed its own output),
     * many-to-one (the final state of an {@link LSTM} into a classifier) and many-to-many (a
     * {@link GRU} output at every step).
     */
    @Test
    void theFourSequenceShapesTrain() {
        DType dt = DType.FLOAT32;
        Tensor x = sn.uniform(gen, -1, 1, dt, 6, 4, 2);                      // [T, B, I]
        // one-to-one
        try (RNN rnn = new RNN(sn, 2, 8, gen); Linear head = new Linear(sn, 8, 1, gen)) {
            Tensor x1 = x.slice(0, 0, 1);                                      // [1, B, I]
            Tensor target = x1.sum(2, false).reshape(4, 1);
            assertFalls("one-to-one", params(rnn, head), () -> Losses.mse(head.forward(rnn.forward(x1).squeeze(0)),
                    target));
        }
        // one-to-many: one input, a 5-step output sequence, each step fed back
        try (LSTMCell cell = new LSTMCell(sn, 2, 8, gen); Linear head = new Linear(sn, 8, 2, gen)) {
            Tensor x0 = x.slice(0, 0, 1).squeeze(0);                           // [B, I]
            Tensor target = x.slice(0, 1, 6);                                  // [5, B, I]
            assertFalls("one-to-many", params(cell, head), () -> {
                Tensor in = x0;
                LSTMCell.State s = null;
                List<Tensor> outs = new ArrayList<>();
                for (int t = 0; t < 5; t++) {
                    s = cell.forward(in, s);
                    in = head.forward(s.h());                                  // [B, I]
                    outs.add(in.unsqueeze(0));
                }
                return Losses.mse(Tensor.cat(0, outs.toArray(Tensor[]::new)), target);
            });
        }
        // many-to-one: classify the sign of the sum over the sequence from the final state
        try (LSTM lstm = new LSTM(sn, 2, 8, gen); Linear head = new Linear(sn, 8, 2, gen)) {
            Tensor labels = x.sum(new int[] {0, 2}, false).gt(0.0).to(DType.INT64);
            assertFalls("many-to-one", params(lstm, head), () -> Losses.crossEntropy(
                    head.forward(lstm.forward(x, null, (Tensor) null).hN().squeeze(0)), labels));
        }
        // many-to-many: predict the running sum at every step
        try (GRU gru = new GRU(sn, 2, 8, gen); Linear head = new Linear(sn, 8, 1, gen)) {
            Tensor target = x.sum(2, true);                                    // [T, B, 1]
            assertFalls("many-to-many", params(gru, head), () -> Losses.mse(head.forward(gru.forward(x)), target));
        }
    }

    private static List<Tensor> params(Module a, Module b) {
        List<Tensor> p = new ArrayList<>(a.parameters());
        p.addAll(b.parameters());
        return p;
    }

    private void assertFalls(String what, List<Tensor> params, java.util.function.Supplier<Tensor> loss) {
        try (Adam opt = new Adam(params, 0.02)) {
            double first = Double.NaN;
            double last = Double.NaN;
            for (int i = 0; i < 30; i++) {
                try (var _ = sn.scope()) {
                    opt.zeroGrad();
                    Tensor l = loss.get();
                    l.backward();
                    opt.step();
                    last = l.item();
                    if (i == 0) {
                        first = last;
                    }
                }
            }
            assertTrue(last < 0.7 * first, what + ": loss did not fall, " + first + " -> " + last);
        }
    }
}
