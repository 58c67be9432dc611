package dev.sinew.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Scope;
import dev.sinew.Tensor;
import dev.sinew.nn.Losses;
import dev.sinew.nn.SinewTestBase;
import dev.sinew.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link LeNet5}: layout, parameter names and count, input forms, and that it learns a fixed batch. */
class LeNet5Test extends SinewTestBase {

    @Test
    void layoutAndParameterNamesFollowTheClassicModel() {
        try (LeNet5 net = new LeNet5(sn, gen)) {
            assertEquals(List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                    "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"), new ArrayList<>(net.namedParameters().keySet()));
            assertEquals(156 + 2416 + 48120 + 10164 + 850, net.numParameters());
            assertArrayEquals(new long[] {6, 1, 5, 5}, net.conv1().weight().dims());
            assertArrayEquals(new long[] {16, 6, 5, 5}, net.conv2().weight().dims());
            Tensor x = sn.randn(gen, DType.FLOAT32, 3, 1, 28, 28);
            Tensor y = net.forward(x);
            assertArrayEquals(new long[] {3, 10}, y.dims());
            assertArrayEquals(y.toFloatArray(), net.forward(x.reshape(3, 784)).toFloatArray(),
                    "flattened input gives the same logits");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> net.forward(sn.zeros(2, 3, 28, 28)));
            assertTrue(e.getMessage().contains("[N, 1, 28, 28]"), e.getMessage());
        }
    }

    @Test
    void learnsAFixedBatch() {
        try (LeNet5 net = new LeNet5(sn, gen); Adam opt = new Adam(net.parameters(), 2e-3)) {
            Tensor x = sn.randn(gen, DType.FLOAT32, 8, 1, 28, 28).detachFromScope();
            Tensor labels = sn.fromArray(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, 8).detachFromScope();
            double first = 0;
            double last = 0;
            for (int step = 0; step < 15; step++) {
                try (Scope s = sn.scope()) {
                    net.zeroGrad();
                    Tensor loss = Losses.crossEntropy(net.forward(x), labels);
                    loss.backward();
                    opt.step();
                    last = loss.item();
                    if (step == 0) {
                        first = last;
                    }
                }
            }
            x.close();
            labels.close();
            assertTrue(last < first * 0.5, "loss should fall on a fixed batch: " + first + " -> " + last);
        }
    }
}
