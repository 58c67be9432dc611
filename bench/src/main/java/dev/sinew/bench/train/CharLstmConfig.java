package dev.sinew.bench.train;

/**
 * What {@code sinew train --model charlstm} trains and how. Checked on construction; an
 * {@link IllegalArgumentException} names the bad setting as its command-line option.
 *
 * @param epochs      epochs, each {@link CharLstmRun#stepsPerEpoch} steps, at least 1
 * @param batch       sequences per step, at least 1
 * @param seq         characters per sequence T (each sequence reads T+1 characters), at least 1
 * @param hidden      LSTM hidden size, at least 1
 * @param embed       embedding width, at least 1
 * @param lr          learning rate, positive and finite
 * @param optimizer   the optimiser
 * @param seed        seeds initialisation, the batches' offsets and the samples
 * @param clip        maximum global L2 norm of the gradients (0: no clipping)
 * @param temperature sampling temperature, positive and finite
 * @param sampleChars characters generated after each epoch (0: no sample)
 */
public record CharLstmConfig(int epochs, int batch, int seq, int hidden, int embed, double lr, OptimizerKind optimizer,
        long seed, double clip, double temperature, int sampleChars) {
    public CharLstmConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        if (seq < 1) {
            throw new IllegalArgumentException("--seq must be at least 1, got " + seq);
        }
        if (hidden < 1) {
            throw new IllegalArgumentException("--hidden must be at least 1, got " + hidden);
        }
        if (embed < 1) {
            throw new IllegalArgumentException("--embed must be at least 1, got " + embed);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("--lr must be a positive finite number, got " + lr);
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("--optimizer must be given");
        }
        if (!(clip >= 0) || Double.isInfinite(clip)) {
            throw new IllegalArgumentException("--clip must be 0 (none) or a positive finite number, got " + clip);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("--temperature must be a positive finite number, got " + temperature);
        }
        if (sampleChars < 0) {
            throw new IllegalArgumentException("--sample-chars must be 0 or more, got " + sampleChars);
        }
    }

    /** The same settings for {@code epochs} epochs. */
    public CharLstmConfig withEpochs(int e) {
        return new CharLstmConfig(e, batch, seq, hidden, embed, lr, optimizer, seed, clip, temperature, sampleChars);
    }
}
