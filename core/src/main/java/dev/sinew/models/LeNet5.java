package dev.sinew.models;

import dev.sinew.DType;
import dev.sinew.Functional;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.Conv2d;
import dev.sinew.nn.Linear;
import dev.sinew.nn.Module;

/**
 * LeNet-5 for 28×28 single-channel images (MNIST, Fashion-MNIST), the classic layout with ReLU and
 * max pooling:
 * <pre>
 *   [N, 1, 28, 28] conv1 5×5, 1→6, padding 2 → ReLU → max-pool 2  [N, 6, 14, 14]
 *                  conv2 5×5, 6→16          → ReLU → max-pool 2  [N, 16, 5, 5]
 *                  flatten [N, 400] → fc1 120 → ReLU → fc2 84 → ReLU → fc3 10 (logits)
 * </pre>
 * Parameter names are those of the usual PyTorch module ({@code conv1.weight}, {@code fc3.bias}, …),
 * so a PyTorch state dict loads as is. Layers take PyTorch's default initialisation, drawn from the
 * given {@link Generator} in the order conv1, conv2, fc1, fc2, fc3. The input may also be given
 * flattened, {@code [N, 784]}.
 *
 * <p>Ownership: the model owns its layers and their parameters and frees them in {@link #close()}.
 * Not thread-safe.
 */
public final class LeNet5 extends Module {
    /** Input side length. */
    public static final int SIDE = 28;
    /** Number of classes (logits per sample). */
    public static final int CLASSES = 10;

    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Linear fc1;
    private final Linear fc2;
    private final Linear fc3;

    /** A FLOAT32 model. */
    public LeNet5(Sinew sn, Generator g) {
        this(sn, DType.FLOAT32, g);
    }

    public LeNet5(Sinew sn, DType dtype, Generator g) {
        int[] one = {1};
        this.conv1 = registerModule("conv1",
                new Conv2d(sn, 1, 6, new int[] {5}, one, new int[] {2}, one, 1, true, dtype, g));
        this.conv2 = registerModule("conv2",
                new Conv2d(sn, 6, 16, new int[] {5}, one, new int[] {0}, one, 1, true, dtype, g));
        this.fc1 = registerModule("fc1", new Linear(sn, 16 * 5 * 5, 120, true, dtype, g));
        this.fc2 = registerModule("fc2", new Linear(sn, 120, 84, true, dtype, g));
        this.fc3 = registerModule("fc3", new Linear(sn, 84, CLASSES, true, dtype, g));
    }

    /** {@code [N, 1, 28, 28]} (or {@code [N, 784]}) → logits {@code [N, 10]}. */
    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() == 2 && x.size(1) == (long) SIDE * SIDE) {
            x = x.reshape(x.size(0), 1, SIDE, SIDE);
        }
        if (x.rank() != 4 || x.size(1) != 1 || x.size(2) != SIDE || x.size(3) != SIDE) {
            throw new IllegalArgumentException("LeNet5: input must be [N, 1, 28, 28] or [N, 784], got " + x.shape());
        }
        int[] two = {2};
        int[] one = {1};
        int[] none = {0};
        Tensor h = Functional.maxPool2d(conv1.forward(x).relu(), two, two, none, one, false);  // [N, 6, 14, 14]
        h = Functional.maxPool2d(conv2.forward(h).relu(), two, two, none, one, false);         // [N, 16, 5, 5]
        h = h.flatten(1);                                                                      // [N, 400]
        h = fc1.forward(h).relu();                                                             // [N, 120]
        h = fc2.forward(h).relu();                                                             // [N, 84]
        return fc3.forward(h);                                                                 // [N, 10]
    }

    public Conv2d conv1() {
        return conv1;
    }

    public Conv2d conv2() {
        return conv2;
    }

    public Linear fc1() {
        return fc1;
    }

    public Linear fc2() {
        return fc2;
    }

    public Linear fc3() {
        return fc3;
    }
}
