package dev.sinew.io;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.Linear;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Not a test: writes {@code sinew_mlp_f32.safetensors} and {@code sinew_mlp_f64.safetensors} (a
 * Sinew-initialised 20-16-8-4 MLP's state dict plus "input" and Sinew's "output") into the folder
 * given as the argument, for {@code make_safetensors_golden.py --verify FILE} to check in PyTorch.
 */
public final class ExportForPyTorch {
    private ExportForPyTorch() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp");
        try (Sinew sn = Sinew.use("reference"); var _ = sn.scope()) {
            Generator g = new Generator(7);
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                try (Sequential m = new Sequential(new Linear(sn, 20, 16, true, dt, g), new ReLU(),
                        new Linear(sn, 16, 8, true, dt, g), new ReLU(), new Linear(sn, 8, 4, true, dt, g))) {
                    Tensor x = sn.randn(g, dt, 5, 20);
                    Tensor y;
                    try (var _ = sn.noGrad()) {
                        y = m.forward(x);
                    }
                    Map<String, Tensor> out = new LinkedHashMap<>(m.stateDict());
                    out.put("input", x);
                    out.put("output", y);
                    Path p = dir.resolve(dt == DType.FLOAT32 ? "sinew_mlp_f32.safetensors" : "sinew_mlp_f64.safetensors");
                    Safetensors.write(p, out, Map.of("format", "pt", "writer", "sinew"));
                    System.out.println("wrote " + p);
                }
            }
        }
    }
}
