package dev.sinew.testing;

import static org.junit.jupiter.api.Assertions.fail;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Scope;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Float64 finite-difference gradient checker.
 *
 * <p>The function's output is projected to a scalar with fixed random weights {@code w}
 * ({@code L = Σ w ⊙ f(x)}), so every output element's gradient path is exercised. Then:
 * <ol>
 *   <li>along a random direction {@code v} (one per input): the central difference
 *       {@code (L(x+εv) − L(x−εv)) / 2ε} must match {@code Σ ⟨∇L, v⟩};</li>
 *   <li>for inputs of at most {@value #ELEMENTWISE_LIMIT} elements, every element is perturbed on its
 *       own and compared with its gradient entry.</li>
 * </ol>
 * Relative error is {@code |a − n| / max(|a|, |n|, 1e-3)} (with a floor so that near-zero
 * gradients are judged absolutely); it must be below {@code 1e-6}. Inputs must be FLOAT64 leaves;
 * the checker owns nothing it returns, and closes everything it makes in scopes.
 */
public final class GradCheck {
    public static final double TOLERANCE = 1e-6;
    static final int ELEMENTWISE_LIMIT = 64;
    private static final double EPS = 1e-6;

    private GradCheck() {
    }

    /** Checks {@code f} at {@code inputs} (FLOAT64 tensors; they are marked requiresGrad here). */
    public static void check(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        Sinew sn = inputs.get(0).sinew();
        for (Tensor t : inputs) {
            if (t.dtype() != DType.FLOAT64) {
                throw new IllegalArgumentException("gradcheck " + name + ": inputs must be FLOAT64, got " + t.dtype());
            }
            t.zeroGrad();
            t.requiresGrad(true);
        }
        try (Scope scope = sn.scope()) {
            Tensor out0 = f.apply(inputs);
            Generator g = new Generator(1234);
            Tensor w = sn.uniform(g, 0.5, 1.5, DType.FLOAT64, out0.dims());
            Tensor loss = out0.mul(w).sum();
            loss.backward();
            double[][] analytic = new double[inputs.size()][];
            for (int i = 0; i < inputs.size(); i++) {
                Tensor gr = inputs.get(i).grad();
                analytic[i] = gr == null ? new double[(int) inputs.get(i).numel()] : gr.toDoubleArray();
            }
            double[] wv = w.toDoubleArray();
            Function<List<Tensor>, Double> lossAt = xs -> {
                try (Scope s = sn.scope(); var ng = sn.noGrad()) {
                    double[] o = f.apply(xs).toDoubleArray();
                    double acc = 0;
                    for (int k = 0; k < o.length; k++) {
                        acc += o[k] * wv[k];
                    }
                    return acc;
                }
            };
            // 1. random direction
            List<double[]> dirs = new ArrayList<>();
            double predicted = 0;
            for (int i = 0; i < inputs.size(); i++) {
                double[] v = new double[(int) inputs.get(i).numel()];
                for (int k = 0; k < v.length; k++) {
                    v[k] = g.nextDouble() * 2 - 1;
                    predicted += v[k] * analytic[i][k];
                }
                dirs.add(v);
            }
            double numeric = (lossAt.apply(shifted(sn, inputs, dirs, EPS)) - lossAt.apply(shifted(sn, inputs, dirs, -EPS)))
                    / (2 * EPS);
            assertRel(name + " (random direction)", predicted, numeric);
            // 2. element by element for small inputs
            for (int i = 0; i < inputs.size(); i++) {
                Tensor x = inputs.get(i);
                if (x.numel() > ELEMENTWISE_LIMIT) {
                    continue;
                }
                for (int k = 0; k < x.numel(); k++) {
                    List<double[]> e = new ArrayList<>();
                    for (int j = 0; j < inputs.size(); j++) {
                        e.add(new double[(int) inputs.get(j).numel()]);
                    }
                    e.get(i)[k] = 1;
                    double num = (lossAt.apply(shifted(sn, inputs, e, EPS)) - lossAt.apply(shifted(sn, inputs, e, -EPS)))
                            / (2 * EPS);
                    assertRel(name + " (input " + i + ", element " + k + ")", analytic[i][k], num);
                }
            }
        } finally {
            for (Tensor t : inputs) {
                t.zeroGrad();
            }
        }
    }

    private static List<Tensor> shifted(Sinew sn, List<Tensor> inputs, List<double[]> dirs, double eps) {
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            double[] x = inputs.get(i).toDoubleArray();
            double[] v = dirs.get(i);
            for (int k = 0; k < x.length; k++) {
                x[k] += eps * v[k];
            }
            out.add(sn.fromArray(x, inputs.get(i).dims()));
        }
        return out;
    }

    private static void assertRel(String what, double analytic, double numeric) {
        double err = Math.abs(analytic - numeric) / Math.max(Math.max(Math.abs(analytic), Math.abs(numeric)), 1e-3);
        if (!(err < TOLERANCE)) {
            fail("gradient check failed for " + what + ": analytic " + analytic + ", numeric " + numeric
                    + ", relative error " + err);
        }
    }
}
