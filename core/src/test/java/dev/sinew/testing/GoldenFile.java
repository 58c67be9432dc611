package dev.sinew.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sinew.DType;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.io.Safetensors;
import dev.sinew.io.SafetensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A PyTorch golden fixture in safetensors format, read from the test class path (so it works from
 * core's test-jar in other modules too) through {@link Safetensors}. The resource is copied to a
 * temporary file, since the reader maps files; {@link #close()} unmaps and deletes it.
 *
 * <p>Layout (see {@code core/src/test/python/make_golden_conv.py}): tensors {@code <case>.<what>}; the
 * metadata key {@code cases} holds a JSON list of case names, and each case name a JSON object
 * describing it. Ownership: the caller owns this object and closes it; tensors it loads belong to
 * the scope open at the call. Not thread-safe.
 */
public final class GoldenFile implements AutoCloseable {
    private final Path temp;
    private final SafetensorsFile file;

    private GoldenFile(Path temp, SafetensorsFile file) {
        this.temp = temp;
        this.file = file;
    }

    /** Opens the class-path resource {@code resource} (e.g. {@code /golden/conv/conv2d.safetensors}). */
    public static GoldenFile open(String resource) {
        try (InputStream in = GoldenFile.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource
                        + " (generate it with core/src/test/python/make_golden_conv.py)");
            }
            Path temp = Files.createTempFile("sinew-golden-", ".safetensors");
            try {
                Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                return new GoldenFile(temp, Safetensors.open(temp));
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(temp);
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The case names, in the order the generator wrote them. */
    public List<String> cases() {
        JsonArray a = JsonParser.parseString(file.metadata().get("cases")).getAsJsonArray();
        List<String> out = new ArrayList<>();
        for (JsonElement e : a) {
            out.add(e.getAsString());
        }
        return out;
    }

    /** The JSON description of {@code name}. */
    public JsonObject meta(String name) {
        String m = file.metadata().get(name);
        if (m == null) {
            throw new IllegalStateException("golden: no metadata for case '" + name + "'");
        }
        return JsonParser.parseString(m).getAsJsonObject();
    }

    /** The stored shape of tensor {@code name}. */
    public long[] shape(String name) {
        return file.info(name).shape();
    }

    public boolean has(String tensor) {
        return file.contains(tensor);
    }

    /** Tensor {@code name} converted to {@code dt}, owned by the open scope (or the caller). */
    public Tensor load(Sinew sn, String name, DType dt) {
        try {
            return file.load(sn, name, dt);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tensor {@code name} as row-major doubles (the stored values, exactly). */
    public double[] doubles(Sinew sn, String name) {
        try (Tensor t = load(sn, name, DType.FLOAT64).detachFromScope()) {
            return t.toDoubleArray();
        }
    }

    /** A JSON array of integers as an int array. */
    public static int[] ints(JsonElement e) {
        JsonArray a = e.getAsJsonArray();
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    @Override
    public void close() {
        try {
            file.close();
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
