package dev.sinew.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.reference.ReferenceBackend;
import dev.sinew.testing.ConvCases;
import dev.sinew.testing.Layout;
import dev.sinew.testing.RandomData;
import dev.sinew.testing.RandomData.Domain;
import dev.sinew.testing.Tolerance;
import dev.sinew.testing.Views;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The composed defaults of the convolution and pooling fused ops ({@link ComposedConv}, built from
 * primitives) against the reference backend's plain loops, which define them: every geometry of
 * {@link ConvCases}, FLOAT32 and FLOAT64, contiguous and strided/permuted/broadcast inputs, strided
 * outputs (whole storages compared, so stray writes are caught), max-pool ties, and no temporaries
 * left live.
 */
class ComposedConvTest {
    private static final Layout[] INPUTS = {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED, Layout.STRIDED,
        Layout.BROADCAST_FIRST};
    private static final Layout[] OUTPUTS = {Layout.CONTIGUOUS, Layout.STRIDED, Layout.SLICED};

    private ReferenceBackend b;
    private final List<View> owned = new ArrayList<>();
    private final SplittableRandom rnd = new SplittableRandom(4);

    @BeforeEach
    void open() {
        b = new ReferenceBackend(new BackendOptions(1, true));
    }

    @AfterEach
    void close() {
        for (View v : owned) {
            v.storage().release();
        }
        owned.clear();
        assertEquals(0, b.liveBuffers(), "live buffers after the test (composed ops must release their temporaries)");
        b.close();
    }

    private View input(DType dt, Layout layout, Domain dom, long... shape) {
        Layout.Geometry g = layout.geometry(shape);
        View v = Views.withGeometry(b, dt, g, RandomData.doubles(rnd, dom, Math.toIntExact(g.elements())), shape);
        owned.add(v);
        return v;
    }

    /** Two outputs with identical random storages: one for the reference, one for the composed op. */
    private View[] outputs(DType dt, Layout layout, long... shape) {
        Layout.Geometry g = layout.geometry(shape);
        double[] fill = RandomData.doubles(rnd, Domain.ANY, Math.toIntExact(g.elements()));
        View r = Views.withGeometry(b, dt, g, fill, shape);
        View c = Views.withGeometry(b, dt, g, fill, shape);
        owned.add(r);
        owned.add(c);
        return new View[] {r, c};
    }

    private static void assertSame(String what, View[] out, Tolerance tol) {
        tol.assertClose(what, Views.toDoubles(Views.wholeStorage(out[0])), Views.toDoubles(Views.wholeStorage(out[1])));
    }

    private static Tolerance tol(DType dt, long terms) {
        return Tolerance.of(dt).forTerms(terms);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void convolutionMatchesTheReferenceLoops(DType dt) {
        int i = 0;
        for (ConvCases.Conv cc : ConvCases.CONV) {
            for (int k = 0; k < 2; k++, i++) {
                Layout li = k == 0 ? Layout.CONTIGUOUS : INPUTS[i % INPUTS.length];
                Layout lo = k == 0 ? Layout.CONTIGUOUS : OUTPUTS[i % OUTPUTS.length];
                String what = cc + " " + dt + " in " + li + " out " + lo;
                View x = input(dt, li, Domain.ANY, cc.x());
                View w = input(dt, k == 0 ? Layout.CONTIGUOUS : Layout.PERMUTED, Domain.ANY, cc.weight());
                View bias = cc.bias() ? input(dt, li == Layout.STRIDED ? Layout.STRIDED : Layout.CONTIGUOUS, Domain.ANY,
                        cc.cout()) : null;
                View[] y = outputs(dt, lo, cc.out());
                b.conv2d(x, w, bias, y[0], cc.p());
                ComposedConv.conv2d(b, x, w, bias, y[1], cc.p());
                assertSame("conv2d " + what, y, tol(dt, cc.forwardTerms()));

                View dy = input(dt, li, Domain.ANY, cc.out());
                View[] dx = outputs(dt, lo, cc.x());
                b.conv2dBackwardData(dy, w, dx[0], cc.p());
                ComposedConv.conv2dBackwardData(b, dy, w, dx[1], cc.p());
                assertSame("conv2dBackwardData " + what, dx, tol(dt, cc.cout() * cc.kh() * cc.kw()));

                View[] dw = outputs(dt, lo, cc.weight());
                View[] db = cc.bias() ? outputs(dt, lo, cc.cout()) : new View[2];
                b.conv2dBackwardFilter(x, dy, dw[0], db[0], cc.p());
                ComposedConv.conv2dBackwardFilter(b, x, dy, dw[1], db[1], cc.p());
                long[] os = cc.out();
                assertSame("conv2dBackwardFilter dw " + what, dw, tol(dt, os[0] * os[2] * os[3]));
                if (cc.bias()) {
                    assertSame("conv2dBackwardFilter dBias " + what, db, tol(dt, os[0] * os[2] * os[3]));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void maxPoolingMatchesTheReferenceLoops(DType dt) {
        int i = 0;
        for (ConvCases.Pool pc : ConvCases.MAX) {
            for (Domain dom : new Domain[] {Domain.ANY, Domain.HALVES}) {
                Layout li = INPUTS[i % INPUTS.length];
                Layout lo = OUTPUTS[i++ % OUTPUTS.length];
                String what = pc + " " + dt + " " + dom + " in " + li + " out " + lo;
                View x = input(dt, li, dom, pc.x());
                View[] y = outputs(dt, lo, pc.out());
                b.maxPool2d(x, y[0], pc.p());
                ComposedConv.maxPool2d(b, x, y[1], pc.p());
                assertSame("maxPool2d " + what, y, Tolerance.EXACT);

                View dy = input(dt, li, Domain.ANY, pc.out());
                View[] dx = outputs(dt, lo, pc.x());
                b.maxPool2dBackward(x, y[0], dy, dx[0], pc.p());
                ComposedConv.maxPool2dBackward(b, x, y[0], dy, dx[1], pc.p());
                assertSame("maxPool2dBackward " + what, dx, tol(dt, (long) pc.p().kernelH() * pc.p().kernelW()));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void averagePoolingMatchesTheReferenceLoops(DType dt) {
        int i = 0;
        for (ConvCases.Pool pc : ConvCases.AVG) {
            Layout li = INPUTS[i % INPUTS.length];
            Layout lo = OUTPUTS[i++ % OUTPUTS.length];
            String what = pc + " " + dt + " in " + li + " out " + lo;
            long terms = (long) pc.p().kernelH() * pc.p().kernelW();
            View x = input(dt, li, Domain.ANY, pc.x());
            View[] y = outputs(dt, lo, pc.out());
            b.avgPool2d(x, y[0], pc.p());
            ComposedConv.avgPool2d(b, x, y[1], pc.p());
            assertSame("avgPool2d " + what, y, tol(dt, terms));

            View dy = input(dt, li, Domain.ANY, pc.out());
            View[] dx = outputs(dt, lo, pc.x());
            b.avgPool2dBackward(dy, dx[0], pc.p());
            ComposedConv.avgPool2dBackward(b, dy, dx[1], pc.p());
            assertSame("avgPool2dBackward " + what, dx, tol(dt, terms));
        }
    }

    /** A hand-computed case pins the reference itself: 3×3 input, 2×2 kernel, padding 1 on the top only. */
    @Test
    void referenceConvolutionByHand() {
        View x = Views.fromDoubles(b, DType.FLOAT64, new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        View w = Views.fromDoubles(b, DType.FLOAT64, new double[] {1, 10, 100, 1000}, 1, 1, 2, 2);
        View bias = Views.fromDoubles(b, DType.FLOAT64, new double[] {0.5}, 1);
        owned.add(x);
        owned.add(w);
        owned.add(bias);
        FusedOps.Conv2dParams p = new FusedOps.Conv2dParams(1, 1, 1, 0, 0, 0, 1, 1, 1);
        View[] y = outputs(DType.FLOAT64, Layout.CONTIGUOUS, p.outputShape("conv2d", x.shape(), w.shape()));
        assertEquals(List.of(1L, 1L, 3L, 2L), List.of(y[0].shape()[0], y[0].shape()[1], y[0].shape()[2], y[0].shape()[3]));
        b.conv2d(x, w, bias, y[0], p);
        // row -1 is padding: out[0] = 100·1 + 1000·2, out[1] = 100·2 + 1000·3, then full windows
        double[] expected = {2100.5, 3200.5, 1 + 20 + 400 + 5000.5, 2 + 30 + 500 + 6000.5, 4 + 50 + 700 + 8000.5,
            5 + 60 + 800 + 9000.5};
        Tolerance.EXACT.assertClose("conv2d by hand", expected, Views.toDoubles(y[0]));
        ComposedConv.conv2d(b, x, w, bias, y[1], p);
        Tolerance.EXACT.assertClose("composed conv2d by hand", expected, Views.toDoubles(y[1]));
    }

    /** Max-pool gradient goes to the first maximum (row-major) of each window; ties are not split. */
    @Test
    void maxPoolGradientGoesToTheFirstMaximum() {
        View x = Views.fromDoubles(b, DType.FLOAT64, new double[] {3, 3, 1, 3}, 1, 1, 2, 2);
        View dy = Views.fromDoubles(b, DType.FLOAT64, new double[] {5}, 1, 1, 1, 1);
        owned.add(x);
        owned.add(dy);
        FusedOps.Pool2dParams p = FusedOps.Pool2dParams.of(2, 2, 2, 2, 0, 0, 1, 1, false, true);
        View[] y = outputs(DType.FLOAT64, Layout.CONTIGUOUS, 1, 1, 1, 1);
        b.maxPool2d(x, y[0], p);
        View[] dx = outputs(DType.FLOAT64, Layout.CONTIGUOUS, 1, 1, 2, 2);
        b.maxPool2dBackward(x, y[0], dy, dx[0], p);
        ComposedConv.maxPool2dBackward(b, x, y[0], dy, dx[1], p);
        Tolerance.EXACT.assertClose("reference", new double[] {5, 0, 0, 0}, Views.toDoubles(dx[0]));
        Tolerance.EXACT.assertClose("composed", new double[] {5, 0, 0, 0}, Views.toDoubles(dx[1]));
    }

    @Test
    void averagePoolingRefusesDilation() {
        View x = input(DType.FLOAT64, Layout.CONTIGUOUS, Domain.ANY, 1, 1, 5, 5);
        FusedOps.Pool2dParams p = FusedOps.Pool2dParams.of(2, 2, 1, 1, 0, 0, 2, 2, false, true);
        View[] y = outputs(DType.FLOAT64, Layout.CONTIGUOUS, p.outputShape("avgPool2d", x.shape()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ComposedConv.avgPool2d(b, x, y[1], p));
        assertTrue(e.getMessage().contains("dilation"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.avgPool2d(x, y[0], p));
    }
}
