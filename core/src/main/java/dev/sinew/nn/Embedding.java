package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;

/**
 * A lookup table, as {@code torch.nn.Embedding}: INT64 indices of any shape {@code [*]} give the rows of
 * {@code weight [numEmbeddings, dim]} at those indices, {@code [*, dim]}.
 *
 * <p>Initialisation is PyTorch's: every entry from N(0, 1), drawn from the given {@link Generator}; with a
 * {@code paddingIdx} that row is then set to zero, and it never receives a gradient (its output is still
 * whatever the row holds, as in PyTorch).
 *
 * <p><b>How the lookup is computed, and what it costs.</b> The SPI has no gather op yet, so the lookup is
 * composed from primitives with ordinary autograd: a one-hot matrix {@code [N, V]} (the indices compared
 * with {@code arange(V)}, cast to the weight's dtype) times the weight {@code [V, dim]}; the weight's
 * gradient is the transposed product {@code oneHotᵀ · dOut}. That costs {@code N·V·dim} multiply-adds
 * forward and again backward, and {@code N·V} elements of memory, where a gather costs {@code N·dim}.
 * For character vocabularies (V ≈ 100) this is a few per cent of an LSTM step and not worth a fused op;
 * for word vocabularies (V in the tens of thousands) it is not the right tool.
 *
 * <p>Indices are checked on the host (one copy of the index tensor per call): an index outside
 * {@code [0, numEmbeddings)} is an {@link IllegalArgumentException} naming it, never a silent zero row.
 *
 * <p>Ownership: the layer owns {@code weight} (state-dict name {@code weight}) and frees it, with its
 * gradient, in {@link #close()}; outputs belong to the scope open at the call. Not thread-safe.
 */
public final class Embedding extends Module {
    private final long numEmbeddings;
    private final long dim;
    private final long paddingIdx; // -1: none
    private final Tensor weight;   // [V, dim]

    /** A FLOAT32 table without a padding index. */
    public Embedding(Sinew sn, long numEmbeddings, long dim, Generator g) {
        this(sn, numEmbeddings, dim, null, DType.FLOAT32, g);
    }

    /**
     * @param paddingIdx the row that stays zero at initialisation and gets no gradient, or null for none;
     *                   negative values count from the end, as in PyTorch
     * @param dtype      FLOAT32 or FLOAT64
     */
    public Embedding(Sinew sn, long numEmbeddings, long dim, Long paddingIdx, DType dtype, Generator g) {
        if (numEmbeddings <= 0 || dim <= 0) {
            throw new IllegalArgumentException("Embedding: num_embeddings and embedding_dim must be positive, got "
                    + numEmbeddings + " and " + dim);
        }
        if (dtype == null || !dtype.isFloating()) {
            throw new IllegalArgumentException("Embedding: the weight needs a floating dtype, got " + dtype);
        }
        if (sn == null || g == null) {
            throw new IllegalArgumentException("Embedding: sinew and generator must not be null");
        }
        if (paddingIdx != null && (paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings)) {
            throw new IllegalArgumentException("Embedding: padding_idx " + paddingIdx + " is outside [" + -numEmbeddings
                    + ", " + numEmbeddings + ")");
        }
        this.numEmbeddings = numEmbeddings;
        this.dim = dim;
        this.paddingIdx = paddingIdx == null ? -1 : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
        Tensor w = sn.normal(g, 0, 1, dtype, numEmbeddings, dim);
        if (this.paddingIdx >= 0) {
            w.slice(0, this.paddingIdx, this.paddingIdx + 1).fill_(0);
        }
        this.weight = registerParameter("weight", w);
    }

    public long numEmbeddings() {
        return numEmbeddings;
    }

    public long embeddingDim() {
        return dim;
    }

    /** The padding row, or -1 when there is none. */
    public long paddingIdx() {
        return paddingIdx;
    }

    /** The table {@code [numEmbeddings, dim]}, owned by this layer. */
    public Tensor weight() {
        return weight;
    }

    /** INT64 indices {@code [*]} → {@code [*, dim]}. */
    @Override
    public Tensor forward(Tensor indices) {
        return lookup(weight, indices, paddingIdx);
    }

    /**
     * The lookup itself, as {@code torch.nn.functional.embedding}: the rows of {@code weight [V, dim]} at
     * INT64 {@code indices [*]}, {@code [*, dim]}, differentiable with respect to {@code weight} (see the
     * class comment for how, and its cost).
     *
     * @param paddingIdx a row in {@code [0, V)} whose gradient is zero, or -1 for none
     * @throws IllegalArgumentException for indices that are not INT64 or outside {@code [0, V)}
     */
    public static Tensor lookup(Tensor weight, Tensor indices, long paddingIdx) {
        if (weight == null || indices == null) {
            throw new IllegalArgumentException("embedding: weight and indices must not be null");
        }
        if (weight.rank() != 2 || !weight.dtype().isFloating()) {
            throw new IllegalArgumentException("embedding: weight must be a floating [V, dim] matrix, got "
                    + weight.dtype() + " " + weight.shape());
        }
        long v = weight.size(0);
        long dim = weight.size(1);
        String op = "Embedding(" + v + ", " + dim + ")";
        if (indices.dtype() != DType.INT64) {
            throw new IllegalArgumentException(op + ": indices " + indices.shape() + " must be INT64, got "
                    + indices.dtype());
        }
        if (paddingIdx < -1 || paddingIdx >= v) {
            throw new IllegalArgumentException(op + ": padding index " + paddingIdx + " is outside [0, " + v + ")");
        }
        long[] idx = indices.toLongArray();
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= v) {
                throw new IllegalArgumentException(op + ": index " + idx[i] + " (element " + i + " of indices "
                        + indices.shape() + ") is outside [0, " + v + ")");
            }
        }
        long n = indices.numel();
        DType dt = weight.dtype();
        Tensor flat = indices.reshape(n, 1);                                       // [N, 1]
        Tensor classes = weight.sinew().arange(v);                                 // [V]
        Tensor oneHot = flat.eq(classes).to(dt);                                   // [N, V]
        Tensor out;
        if (paddingIdx < 0) {
            out = oneHot.matmul(weight);                                           // [N, dim]
        } else {
            // The padding row's output is its value, but no gradient reaches it: route it through detach().
            Tensor isPad = flat.eq((double) paddingIdx).to(dt);                     // [N, 1]
            Tensor keep = oneHot.mul(isPad.neg().add(1));                           // [N, V] without the padding column
            Tensor padRow = weight.slice(0, paddingIdx, paddingIdx + 1).detach();   // [1, dim]
            out = keep.matmul(weight).add(isPad.mul(padRow));                       // [N, dim]
        }
        long[] outShape = new long[indices.rank() + 1];
        for (int d = 0; d < indices.rank(); d++) {
            outShape[d] = indices.size(d);
        }
        outShape[indices.rank()] = dim;
        return out.reshape(outShape);                                              // [*, dim]
    }

    @Override
    protected String extraRepr() {
        return numEmbeddings + ", " + dim + (paddingIdx >= 0 ? ", padding_idx=" + paddingIdx : "");
    }
}
