package dev.sinew;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reverse-mode engine: orders the tape reachable from a root topologically, then runs each
 * node's rule once, accumulating gradients of shared inputs. Leaves that require grad get their
 * gradient added to {@link Tensor#grad()} (which the leaf owns); intermediate gradients are
 * ordinary tensors owned by the current scope. Runs under no-grad (no higher-order gradients).
 */
final class Autograd {
    private Autograd() {
    }

    static void backward(Tensor root, Tensor seed) {
        // Iterative DFS post-order: graphs of long training loops would overflow a recursive one.
        List<Tensor> order = new ArrayList<>();
        IdentityHashMap<Tensor, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Node n = t.gradFn();
            if (n != null && next < n.inputs.length) {
                frame[1] = next + 1;
                Tensor in = n.inputs[next];
                if (in != null && in.requiresGrad() && visited.put(in, Boolean.TRUE) == null) {
                    stack.push(new Object[] {in, 0});
                }
            } else {
                stack.pop();
                order.add(t);
            }
        }
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, seed);
        try (NoGrad ng = root.sinew().noGrad()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor g = grads.remove(t);
                if (g == null) {
                    continue;
                }
                Node n = t.gradFn();
                if (n == null) {
                    t.accumulateGrad(g);
                    continue;
                }
                Tensor[] gi = n.rule.apply(g);
                for (int k = 0; k < n.inputs.length; k++) {
                    Tensor in = n.inputs[k];
                    if (in == null || !in.requiresGrad() || gi[k] == null) {
                        continue;
                    }
                    Tensor gk = gi[k].sumToShape(in.shape());
                    Tensor prev = grads.get(in);
                    grads.put(in, prev == null ? gk : prev.add(gk));
                }
            }
        }
    }
}
