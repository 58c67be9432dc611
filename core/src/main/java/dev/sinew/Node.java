package dev.sinew;

/**
 * One recorded op on the autograd tape: the op's name, its inputs, and its gradient rule.
 *
 * <p>A node is held by the tensor it produced ({@link Tensor#gradFn()}); it keeps its inputs
 * reachable until that tensor is closed or collected. The rule receives the gradient of the output
 * and returns one gradient per input (null where an input needs none), written with tensor ops;
 * the engine reduces broadcast gradients back to each input's shape.
 */
final class Node {
    /** The gradient rule of one op. */
    @FunctionalInterface
    interface Rule {
        Tensor[] apply(Tensor gradOut);
    }

    final String op;
    final Tensor[] inputs;
    final Rule rule;

    Node(String op, Tensor[] inputs, Rule rule) {
        this.op = op;
        this.inputs = inputs;
        this.rule = rule;
    }
}
