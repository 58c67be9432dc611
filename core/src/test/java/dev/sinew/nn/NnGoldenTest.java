package dev.sinew.nn;

import static dev.sinew.nn.Golden.assertClose;
import static dev.sinew.nn.Golden.obj;
import static dev.sinew.nn.Golden.tensor;
import static dev.sinew.nn.Golden.tol;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sinew.DType;
import dev.sinew.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Layers and activations against PyTorch 1.13 (fixtures from make_golden_nn_optim.py). */
class NnGoldenTest extends SinewTestBase {
    private static final Map<String, Object> G = Golden.load("nn_golden.json");

    private Map<String, Tensor> state(Object params, DType dt) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) params;
        for (var e : m.entrySet()) {
            out.put(e.getKey(), tensor(sn, e.getValue(), dt));
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT64", "FLOAT32"})
    void mlpForwardAndBackwardMatchPyTorch(DType dt) {
        Map<String, Object> c = obj(G, "mlp");
        try (Sequential model = new Sequential(new Linear(sn, 4, 5, true, dt, gen), new ReLU(),
                new Linear(sn, 5, 3, true, dt, gen), new Tanh())) {
            model.loadStateDict(state(c.get("params"), dt), true);
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"),
                    new ArrayList<>(model.namedParameters().keySet()));
            Tensor x = tensor(sn, c.get("x"), dt).requiresGrad(true); // [6, 4]
            Tensor y = model.forward(x);                                // [6, 3]
            assertClose("mlp y", c.get("y"), y, tol(dt));
            y.backward(tensor(sn, c.get("gout"), dt));
            assertClose("mlp dx", c.get("dx"), x.grad(), tol(dt));
            Map<String, Object> grads = obj(c, "grads");
            for (var e : model.namedParameters().entrySet()) {
                assertClose("mlp d" + e.getKey(), grads.get(e.getKey()), e.getValue().grad(), tol(dt));
            }
        }
    }

    @Test
    void linearWithoutBias() {
        Map<String, Object> c = obj(G, "linear_nobias");
        try (Linear lin = new Linear(sn, 3, 2, false, DType.FLOAT64, gen)) {
            assertEquals(List.of("weight"), new ArrayList<>(lin.namedParameters().keySet()));
            lin.loadStateDict(Map.of("weight", tensor(sn, c.get("weight"), DType.FLOAT64)), true);
            Tensor x = tensor(sn, c.get("x"), DType.FLOAT64).requiresGrad(true);
            Tensor y = lin.forward(x);
            assertClose("y", c.get("y"), y, 1e-10);
            y.backward(tensor(sn, c.get("gout"), DType.FLOAT64));
            assertClose("dx", c.get("dx"), x.grad(), 1e-10);
            assertClose("dweight", c.get("dweight"), lin.weight().grad(), 1e-10);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT64", "FLOAT32"})
    void activationsMatchPyTorch(DType dt) {
        Map<String, Object> a = obj(G, "activations");
        Map<String, Supplier<Module>> mods = new LinkedHashMap<>();
        mods.put("relu", ReLU::new);
        mods.put("sigmoid", Sigmoid::new);
        mods.put("tanh", Tanh::new);
        mods.put("softmax0", () -> new Softmax(0));
        mods.put("softmax1", () -> new Softmax(1));
        mods.put("logsoftmax1", () -> new LogSoftmax(-1));
        mods.put("logsoftmax0", () -> new LogSoftmax(0));
        Map<String, Object> cases = obj(a, "cases");
        assertEquals(cases.keySet(), mods.keySet());
        for (var e : mods.entrySet()) {
            Map<String, Object> c = obj(cases, e.getKey());
            try (Module m = e.getValue().get()) {
                Tensor x = tensor(sn, a.get("x"), dt).requiresGrad(true);
                Tensor y = m.forward(x);
                assertClose(e.getKey() + " y", c.get("y"), y, tol(dt));
                y.backward(tensor(sn, a.get("gout"), dt));
                assertClose(e.getKey() + " dx", c.get("dx"), x.grad(), tol(dt));
            }
        }
    }

    /** A module with named children, like a user's {@code nn.Module} subclass. */
    static final class Mlp extends Module {
        private final Linear fc1;
        private final ReLU act;
        private final Linear fc2;

        Mlp(dev.sinew.Sinew sn, dev.sinew.Generator g) {
            fc1 = registerModule("fc1", new Linear(sn, 784, 16, g));
            act = registerModule("act", new ReLU());
            fc2 = registerModule("fc2", new Linear(sn, 16, 10, g));
        }

        @Override
        public Tensor forward(Tensor x) {
            return fc2.forward(act.forward(fc1.forward(x)));
        }
    }

    @Test
    void stateDictNamesMatchPyTorch() {
        Map<String, Object> names = obj(G, "state_dict_names");
        try (Sequential seq = new Sequential(new Flatten(), new Linear(sn, 4, 3, gen), new ReLU(),
                new Dropout(0.5, gen), new Linear(sn, 3, 2, gen), new LogSoftmax(1));
                Sequential nested = new Sequential(new Sequential(new Linear(sn, 2, 3, gen), new Tanh()),
                        new Linear(sn, 3, 3, false, gen),
                        new Sequential(new Sigmoid(), new Linear(sn, 3, 1, gen), new Softmax(1)));
                Mlp custom = new Mlp(sn, gen)) {
            assertEquals(names.get("sequential"), new ArrayList<>(seq.stateDict().keySet()));
            assertEquals(names.get("nested"), new ArrayList<>(nested.stateDict().keySet()));
            assertEquals(names.get("custom"), new ArrayList<>(custom.stateDict().keySet()));
            assertEquals(names.get("custom"), new ArrayList<>(custom.namedParameters().keySet()));
            assertEquals(784 * 16 + 16 + 16 * 10 + 10, custom.numParameters());
            // forward works end to end on a batch
            Tensor y = custom.forward(sn.randn(gen, DType.FLOAT32, 2, 784));
            assertEquals(List.of(2L, 10L), List.of(y.size(0), y.size(1)));
        }
    }
}
