package dev.sinew.io;

import static dev.sinew.io.SafetensorsTorchGoldenTest.golden;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.nn.BatchNorm2d;
import dev.sinew.nn.Conv2d;
import dev.sinew.nn.Flatten;
import dev.sinew.nn.Linear;
import dev.sinew.nn.MaxPool2d;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import dev.sinew.nn.SinewTestBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Interop with PyTorch for a small conv net with BatchNorm2d, through the fixtures of
 * {@code src/test/python/make_golden_convbn.py}: PyTorch's state dict (with {@code running_mean},
 * {@code running_var} and the rank-0 INT64 {@code num_batches_tracked}) loads strictly into the same
 * Sinew model and gives PyTorch's outputs in evaluation and in training mode, where the buffers then
 * move as PyTorch's did. The other way, the state dict Sinew writes (plus "input" and Sinew's
 * "output") is left in {@code target/sinew_convbn.safetensors}, for
 * {@code make_golden_convbn.py --verify} to check in PyTorch.
 */
class ConvBnInteropTest extends SinewTestBase {

    private Sequential model() {
        return new Sequential(new Conv2d(sn, 2, 4, 3, 1, 1, gen), new BatchNorm2d(sn, 4), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(sn, 64, 5, gen));
    }

    private static double maxAbsDiff(double[] a, double[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void pytorchWeightsWithBatchNormStatisticsGivePytorchOutputs() throws IOException {
        try (Sequential m = model(); SafetensorsFile io = Safetensors.open(golden("convbn_io.safetensors"))) {
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                    "1.num_batches_tracked", "5.weight", "5.bias"), List.copyOf(m.stateDict().keySet()));
            Safetensors.loadInto(m, golden("convbn.safetensors"), true);
            assertEquals(3, m.stateDict().get("1.num_batches_tracked").item());
            Tensor x = io.load(sn, "input");
            try (var _ = sn.noGrad()) {
                m.eval();
                double d = maxAbsDiff(m.forward(x).toDoubleArray(), io.load(sn, "eval_output").toDoubleArray());
                assertTrue(d <= 1e-5, "evaluation mode: max |diff| " + d);
                m.train();
                d = maxAbsDiff(m.forward(x).toDoubleArray(), io.load(sn, "train_output").toDoubleArray());
                assertTrue(d <= 1e-5, "training mode: max |diff| " + d);
            }
            var sd = m.stateDict();
            assertTrue(maxAbsDiff(sd.get("1.running_mean").toDoubleArray(),
                    io.load(sn, "train.running_mean").toDoubleArray()) <= 1e-6);
            assertTrue(maxAbsDiff(sd.get("1.running_var").toDoubleArray(),
                    io.load(sn, "train.running_var").toDoubleArray()) <= 1e-6);
            assertEquals(io.load(sn, "train.num_batches_tracked").item(), sd.get("1.num_batches_tracked").item());
        }
    }

    @Test
    void sinewWrittenStateDictKeepsPyTorchNamesAndTypes() throws IOException {
        try (Sequential m = model(); Sequential back = model()) {
            Safetensors.loadInto(m, golden("convbn.safetensors"), true);
            Tensor x = sn.randn(gen, DType.FLOAT32, 2, 2, 8, 8);
            try (var _ = sn.noGrad()) {
                m.train().forward(x); // move the statistics away from PyTorch's
            }
            Tensor y;
            try (var _ = sn.noGrad()) {
                y = m.eval().forward(x);
            }
            Map<String, Tensor> out = new LinkedHashMap<>(m.stateDict());
            out.put("input", x);
            out.put("output", y);
            Path target = Path.of("target");
            Path p = (Files.isDirectory(target) ? target : Files.createTempDirectory("sinew")).resolve(
                    "sinew_convbn.safetensors");
            Safetensors.write(p, out, Map.of("format", "pt", "writer", "sinew"));
            try (SafetensorsFile f = Safetensors.open(p); SafetensorsFile torch = Safetensors.open(golden("convbn.safetensors"))) {
                for (String name : torch.names()) {
                    assertEquals(torch.info(name).dtype(), f.info(name).dtype(), name);
                    assertArrayEquals(torch.info(name).shape(), f.info(name).shape(), name);
                }
                assertEquals(SafetensorsDType.I64, f.info("1.num_batches_tracked").dtype());
                assertEquals(0, f.info("1.num_batches_tracked").rank());
            }
            Safetensors.loadInto(back, p, false); // "input" and "output" are extra: not strict
            try (var _ = sn.noGrad()) {
                assertArrayEquals(y.toFloatArray(), back.eval().forward(x).toFloatArray(), 0f);
            }
            assertEquals(4, back.stateDict().get("1.num_batches_tracked").item());
        }
    }
}
