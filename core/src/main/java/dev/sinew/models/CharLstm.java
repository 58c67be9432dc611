package dev.sinew.models;

import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.Embedding;
import dev.sinew.nn.LSTM;
import dev.sinew.nn.Linear;
import dev.sinew.nn.Module;
import dev.sinew.nn.RnnOptions;

/**
 * A character-level language model: embedding → one LSTM layer (batch-first) → linear to the
 * vocabulary, predicting each next character:
 * <pre>
 *   ids [B, T] INT64 → embed [B, T, E] → lstm [B, T, H] → head [B, T, V] (logits)
 * </pre>
 * Parameter names are those of the obvious PyTorch module ({@code embed.weight},
 * {@code lstm.weight_ih_l0}, …, {@code head.weight}, {@code head.bias}), so a PyTorch state dict
 * loads as is. Initialisation is PyTorch's for each layer (embedding N(0, 1), LSTM and linear
 * uniform), drawn from the given {@link Generator} in the order embed, lstm, head.
 *
 * <p>For generation, {@link #forward(Tensor, Tensor, Tensor)} runs a stretch (one character, say) from
 * given states and returns the states after it, to be passed to the next call.
 *
 * <p>Ownership: the model owns its layers and their parameters and frees them in {@link #close()};
 * outputs belong to the scope open at the call. Not thread-safe.
 */
public final class CharLstm extends Module {
    /** Logits {@code [B, T, V]} and the LSTM states after the stretch, {@code [1, B, H]} each. */
    public record Output(Tensor logits, Tensor h, Tensor c) {
    }

    private final int vocab;
    private final Embedding embed;
    private final LSTM lstm;
    private final Linear head;

    /**
     * @param vocab  characters in the vocabulary V
     * @param embed  embedding width E
     * @param hidden LSTM hidden size H
     */
    public CharLstm(Sinew sn, int vocab, int embed, int hidden, Generator g) {
        if (vocab < 1 || embed < 1 || hidden < 1) {
            throw new IllegalArgumentException("CharLstm: vocabulary, embedding and hidden sizes must be positive, got "
                    + vocab + ", " + embed + " and " + hidden);
        }
        this.vocab = vocab;
        this.embed = registerModule("embed", new Embedding(sn, vocab, embed, null, DType.FLOAT32, g));
        this.lstm = registerModule("lstm", new LSTM(sn, RnnOptions.of(embed, hidden).batchFirst(true), g));
        this.head = registerModule("head", new Linear(sn, hidden, vocab, g));
    }

    /** {@code [B, T]} ids → logits {@code [B, T, V]}, from zero states. */
    @Override
    public Tensor forward(Tensor ids) {
        return forward(ids, null, null).logits();
    }

    /** {@code [B, T]} ids from states {@code h0}, {@code c0} ({@code [1, B, H]}, or null for zeros). */
    public Output forward(Tensor ids, Tensor h0, Tensor c0) {
        if (ids.rank() != 2) {
            throw new IllegalArgumentException("CharLstm: input must be [B, T] character ids, got " + ids.shape());
        }
        Tensor x = embed.forward(ids);                 // [B, T, E]
        RnnOutput o = lstm.forward(x, h0, c0);         // output [B, T, H], states [1, B, H]
        Tensor logits = head.forward(o.output());      // [B, T, V]
        return new Output(logits, o.hN(), o.cN());
    }

    public int vocab() {
        return vocab;
    }

    public Embedding embed() {
        return embed;
    }

    public LSTM lstm() {
        return lstm;
    }

    public Linear head() {
        return head;
    }
}
