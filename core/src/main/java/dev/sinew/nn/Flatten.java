package dev.sinew.nn;

import dev.sinew.Tensor;
import java.util.Arrays;

/**
 * Flattens dimensions {@code startDim..endDim} into one, as {@code torch.nn.Flatten} (defaults
 * {@code startDim = 1}, {@code endDim = -1}: {@code [N, C, H, W] → [N, C·H·W]}). A view when the
 * input's strides allow it, else a copy. Holds no state; thread-safe.
 */
public final class Flatten extends Module {
    private final int startDim;
    private final int endDim;

    public Flatten() {
        this(1, -1);
    }

    public Flatten(int startDim) {
        this(startDim, -1);
    }

    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() == 0) {
            return x.reshape(1);
        }
        int r = x.rank();
        int s = startDim < 0 ? startDim + r : startDim;
        int e = endDim < 0 ? endDim + r : endDim;
        if (s < 0 || s >= r || e < 0 || e >= r || s > e) {
            throw new IllegalArgumentException("Flatten(startDim=" + startDim + ", endDim=" + endDim
                    + "): invalid for input " + x.shape() + " of rank " + r);
        }
        if (s == e) {
            return x;
        }
        long[] d = x.dims();
        long[] out = new long[r - (e - s)];
        System.arraycopy(d, 0, out, 0, s);
        long merged = 1;
        for (int i = s; i <= e; i++) {
            merged *= d[i];
        }
        out[s] = merged;
        System.arraycopy(d, e + 1, out, s + 1, r - e - 1);
        return Arrays.equals(out, d) ? x : x.reshape(out);
    }

    @Override
    protected String extraRepr() {
        return "start_dim=" + startDim + ", end_dim=" + endDim;
    }
}
