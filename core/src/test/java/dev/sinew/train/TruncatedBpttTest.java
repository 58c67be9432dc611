package dev.sinew.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Tensor;
import dev.sinew.nn.ClockworkRNN;
import dev.sinew.nn.LSTM;
import dev.sinew.nn.Linear;
import dev.sinew.nn.Losses;
import dev.sinew.nn.RnnOptions;
import dev.sinew.nn.SinewTestBase;
import dev.sinew.optim.Adam;
import dev.sinew.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link TruncatedBptt}: it does exactly the seed's loop (checked against the same loop written out by
 * hand), carries the state detached, clips by global norm, learns a task that needs memory within a
 * chunk, and leaves nothing live.
 */
class TruncatedBpttTest extends SinewTestBase {

    private static List<Tensor> params(LSTM lstm, Linear head) {
        List<Tensor> p = new ArrayList<>(lstm.parameters());
        p.addAll(head.parameters());
        return p;
    }

    private static TruncatedBptt.ChunkResult step(LSTM lstm, Linear head, TruncatedBptt.Chunk c) {
        List<Tensor> s = c.state();
        RnnOutput o = lstm.forward(c.inputs(), s == null ? null : s.get(0), s == null ? null : s.get(1));
        Tensor loss = Losses.mse(head.forward(o.output()), c.targets());
        return new TruncatedBptt.ChunkResult(loss, List.of(o.hN(), o.cN()));
    }

    /** The utility's updates equal the loop written out by hand: chunks, detached state, one step each. */
    @Test
    void matchesTheLoopWrittenOutByHand() {
        DType dt = DType.FLOAT64;
        Tensor x = sn.normal(gen, 0, 1, dt, 10, 2, 3);                       // [T, B, I]
        Tensor y = sn.normal(gen, 0, 1, dt, 10, 2, 1);
        RnnOptions o = RnnOptions.of(3, 4).dtype(dt);
        try (LSTM a = new LSTM(sn, o, new Generator(1)); Linear ha = new Linear(sn, 4, 1, true, dt, new Generator(2));
                LSTM b = new LSTM(sn, o, new Generator(1)); Linear hb = new Linear(sn, 4, 1, true, dt, new Generator(2));
                SGD optA = new SGD(params(a, ha), 0.1); SGD optB = new SGD(params(b, hb), 0.1)) {
            TruncatedBptt.Result r = new TruncatedBptt(4, optA).run(x, y, 0, null, c -> step(a, ha, c));
            assertEquals(3, r.chunkLosses().length, "chunks of 4, 4 and 2 steps");
            // by hand
            Tensor h = null;
            Tensor c = null;
            double[] losses = new double[3];
            for (int i = 0; i < 3; i++) {
                long s = 4L * i;
                long e = Math.min(s + 4, 10);
                optB.zeroGrad();
                RnnOutput out = b.forward(x.slice(0, s, e), h, c);
                Tensor loss = Losses.mse(hb.forward(out.output()), y.slice(0, s, e));
                loss.backward();
                optB.step();
                losses[i] = loss.item();
                h = out.hN().detach();
                c = out.cN().detach();
            }
            assertArrayEquals(losses, r.chunkLosses());
            List<Tensor> pa = params(a, ha);
            List<Tensor> pb = params(b, hb);
            for (int i = 0; i < pa.size(); i++) {
                assertArrayEquals(pb.get(i).toDoubleArray(), pa.get(i).toDoubleArray(), "parameter " + i);
            }
            assertArrayEquals(h.toDoubleArray(), r.finalState().get(0).toDoubleArray());
            assertFalse(r.finalState().get(0).requiresGrad(), "the carried state is detached");
            r.finalState().forEach(Tensor::close);
        }
    }

    @Test
    void clipsTheGlobalNormBeforeEachUpdate() {
        DType dt = DType.FLOAT64;
        Tensor x = sn.normal(gen, 0, 1, dt, 3, 2, 3);
        Tensor y = sn.normal(gen, 0, 10, dt, 3, 2, 1);
        try (LSTM lstm = new LSTM(sn, RnnOptions.of(3, 4).dtype(dt), gen); Linear head = new Linear(sn, 4, 1, true, dt, gen);
                SGD opt = new SGD(params(lstm, head), 1.0)) {
            List<double[]> before = new ArrayList<>();
            for (Tensor p : params(lstm, head)) {
                before.add(p.toDoubleArray());
            }
            TruncatedBptt.Result r = new TruncatedBptt(3, opt).clipGradNorm(1e-3).run(x, y, 0, null,
                    c -> step(lstm, head, c));
            double sq = 0;
            List<Tensor> after = params(lstm, head);
            for (int i = 0; i < after.size(); i++) {
                double[] a = after.get(i).toDoubleArray();
                for (int j = 0; j < a.length; j++) {
                    sq += (a[j] - before.get(i)[j]) * (a[j] - before.get(i)[j]);
                }
            }
            assertTrue(Math.sqrt(sq) <= 1e-3 * (1 + 1e-6), "update of norm " + Math.sqrt(sq) + " with lr 1, max norm 1e-3");
            assertTrue(Math.sqrt(sq) > 0.5e-3, "the clipped update should be about max norm, got " + Math.sqrt(sq));
            r.finalState().forEach(Tensor::close);
        }
    }

    /** Echo the input from 2 steps back, over a long stream cut into chunks of 8: the loss must fall. */
    @Test
    void learnsOverALongStream() {
        Tensor x = sn.uniform(gen, -1, 1, DType.FLOAT32, 400, 4, 1);          // [T, B, 1]
        Tensor y = Tensor.cat(0, sn.zeros(2, 4, 1), x.slice(0, 0, 398));
        try (LSTM lstm = new LSTM(sn, 1, 16, gen); Linear head = new Linear(sn, 16, 1, gen);
                Adam opt = new Adam(params(lstm, head), 0.02)) {
            TruncatedBptt tbptt = new TruncatedBptt(8, opt).clipGradNorm(1.0);
            double first = 0;
            double last = 0;
            List<Tensor> state = null;
            for (int epoch = 0; epoch < 3; epoch++) {
                TruncatedBptt.Result r = tbptt.run(x, y, 0, state, c -> step(lstm, head, c));
                if (state != null) {
                    state.forEach(Tensor::close);
                }
                state = r.finalState();
                double[] l = r.chunkLosses();
                if (epoch == 0) {
                    first = (l[0] + l[1] + l[2]) / 3;
                }
                last = (l[l.length - 1] + l[l.length - 2] + l[l.length - 3]) / 3;
            }
            state.forEach(Tensor::close);
            assertTrue(last < 0.1 * first, "loss " + first + " -> " + last);
        }
    }

    /** A clocked model gets each chunk's global start step. */
    @Test
    void chunksKnowWhereTheyStart() {
        Tensor x = sn.normal(gen, 0, 1, DType.FLOAT32, 7, 2, 2);
        try (ClockworkRNN cw = new ClockworkRNN(sn, 2, 2, 2, gen); Linear head = new Linear(sn, 4, 1, gen);
                SGD opt = new SGD(new ArrayList<>(cw.parameters()), 0.0)) {
            List<Long> starts = new ArrayList<>();
            TruncatedBptt.Result r = new TruncatedBptt(3, opt).run(x, null, 0, null, c -> {
                starts.add(c.start());
                RnnOutput o = cw.forward(c.inputs(), c.state() == null ? null : c.state().get(0), c.start());
                return new TruncatedBptt.ChunkResult(head.forward(o.output()).square().mean(), List.of(o.hN()));
            });
            assertEquals(List.of(0L, 3L, 6L), starts);
            // with lr 0 the chunks compose to one run
            double[] whole = cw.forward(x).slice(0, 6, 7).toDoubleArray();
            assertArrayEquals(whole, r.finalState().get(0).reshape(-1).toDoubleArray(), 1e-6);
            r.finalState().forEach(Tensor::close);
        }
    }

    @Test
    void badArguments() {
        try (LSTM lstm = new LSTM(sn, 1, 2, gen); SGD opt = new SGD(lstm.parameters(), 0.1)) {
            assertThrows(IllegalArgumentException.class, () -> new TruncatedBptt(0, opt));
            assertThrows(IllegalArgumentException.class, () -> new TruncatedBptt(2, opt).clipGradNorm(0));
            String m = assertThrows(IllegalArgumentException.class, () -> new TruncatedBptt(2, opt).run(
                    sn.zeros(5, 1, 1), sn.zeros(4, 1, 1), 0, null, c -> null)).getMessage();
            assertTrue(m.contains("do not have the 5 steps"), m);
        }
    }
}
