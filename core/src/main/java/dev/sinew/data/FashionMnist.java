package dev.sinew.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Fashion-MNIST (Zalando, 2017: 28×28 grey images of 10 kinds of clothing) as two
 * {@link ArrayDataset}s of flattened {@code [784]} pixels scaled to [0, 1] and labels 0..9.
 *
 * <p>Where the data comes from, in this order ({@link #load(Path)}):
 * <ol>
 *   <li>an explicit directory ({@code --data DIR}), which must hold the files: a missing or
 *       broken file is an error, never a silent fallback;</li>
 *   <li>{@code /usr/share/datasets/fashion-mnist}, Debian's {@code dataset-fashion-mnist} package, when it
 *       holds all four files;</li>
 *   <li>the copy bundled with Sinew at {@code data/fashion-mnist} (the 10,000-image test split
 *       only; found through the system property {@code sinew.home}, which the
 *       {@code ./sinew} launcher sets, else relative to the working directory).</li>
 * </ol>
 * A directory holding the four files gives the standard 60,000/10,000 split. A directory
 * holding only the test split ({@code t10k-*}) is split in two: training on its first 80%
 * (8,000 images) and testing on the last 20% (2,000). {@link #description()} says which data was
 * used; show it to the user.
 *
 * <p>Files may be raw or gzip-compressed, named {@code train-images-idx3-ubyte},
 * {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte},
 * each with or without {@code .gz}.
 *
 * <p>Ownership: the datasets hold plain Java arrays (about 190 MB of floats for the full
 * training set); nothing needs closing. Immutable and thread-safe.
 *
 * @param train the training samples
 * @param test the evaluation samples
 * @param source which of the three places the data came from
 * @param directory the directory the files were read from
 * @param testSplitOnly whether only the 10,000-image test split was available (and was split in two)
 */
public record FashionMnist(ArrayDataset train, ArrayDataset test, Source source, Path directory, boolean testSplitOnly) {

    /** Where the data came from. */
    public enum Source {
        /** A directory the caller named. */
        EXPLICIT,
        /** Debian's {@code dataset-fashion-mnist} package. */
        SYSTEM,
        /** The copy of the test split bundled with Sinew. */
        BUNDLED
    }

    static final String SYSTEM_DIR_NAME = "/usr/share/datasets/fashion-mnist";

    /** Where Debian's {@code dataset-fashion-mnist} puts the files. */
    public static final Path SYSTEM_DIR = Path.of(SYSTEM_DIR_NAME);

    /** System property naming Sinew's checkout or install root; the bundled data is under {@code data/fashion-mnist} there. */
    public static final String HOME_PROPERTY = "sinew.home";

    /** The bundled data's directory relative to Sinew's root. */
    public static final Path BUNDLED_RELATIVE = Path.of("data", "fashion-mnist");

    /** Image side in pixels. */
    public static final int SIDE = 28;

    /** Features per sample, {@code 28 * 28}. */
    public static final int FEATURES = SIDE * SIDE;

    /** Number of classes. */
    public static final int CLASSES = 10;

    /** Class names by label. */
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    private static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    private static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    private static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    public FashionMnist {
        if (train == null || test == null || source == null || directory == null) {
            throw new IllegalArgumentException("FashionMnist: no component may be null");
        }
    }

    /**
     * Loads from {@code explicitDir} when it is not null, else from the system directory, else
     * from the bundled copy (see the class comment).
     *
     * @throws NoSuchFileException if {@code explicitDir} or a file the chosen directory needs is missing
     * @throws IdxFormatException if a file is truncated or malformed, or the files disagree
     * @throws FileNotFoundException if no source has the data, saying where it looked
     */
    public static FashionMnist load(Path explicitDir) throws IOException {
        return load(explicitDir, SYSTEM_DIR, defaultBundledDir());
    }

    /** {@link #load(Path)} with the system and bundled directories given, for tests and embedders. */
    public static FashionMnist load(Path explicitDir, Path systemDir, Path bundledDir) throws IOException {
        if (explicitDir != null) {
            if (!Files.isDirectory(explicitDir)) {
                throw new NoSuchFileException(explicitDir.toString(), null,
                        Files.exists(explicitDir) ? "not a directory" : "no such directory");
            }
            return loadDirectory(explicitDir, Source.EXPLICIT);
        }
        if (systemDir != null && hasAll(systemDir, TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)) {
            return loadDirectory(systemDir, Source.SYSTEM);
        }
        if (bundledDir != null && hasAll(bundledDir, TEST_IMAGES, TEST_LABELS)) {
            return loadDirectory(bundledDir, Source.BUNDLED);
        }
        throw new FileNotFoundException("no Fashion-MNIST data found: no --data directory was given, "
                + (systemDir == null ? "no system directory was set" : systemDir + " does not hold the four IDX files"
                        + " (apt-get install dataset-fashion-mnist)")
                + ", and " + (bundledDir == null ? "no bundled copy was set"
                        : "there is no bundled copy at " + bundledDir + " (set -D" + HOME_PROPERTY + "=<sinew checkout>)"));
    }

    /**
     * Loads from one directory: all four files, or only the two {@code t10k} files (then split
     * 80/20). A training file without its partner is an error naming the missing one.
     */
    public static FashionMnist loadDirectory(Path dir, Source source) throws IOException {
        boolean anyTrain = find(dir, TRAIN_IMAGES) != null || find(dir, TRAIN_LABELS) != null;
        ArrayDataset test = readSplit(dir, TEST_IMAGES, TEST_LABELS);
        if (anyTrain) {
            ArrayDataset train = readSplit(dir, TRAIN_IMAGES, TRAIN_LABELS);
            return new FashionMnist(train, test, source, dir, false);
        }
        int cut = test.size() * 4 / 5;
        if (cut == 0 || cut == test.size()) {
            throw new IdxFormatException(dir.resolve(TEST_LABELS), "only the test split is present and its "
                    + test.size() + " samples are too few to split into training and test parts");
        }
        return new FashionMnist(test.slice(0, cut), test.slice(cut, test.size()), source, dir, true);
    }

    /** The bundled copy's directory: {@code ${sinew.home}/data/fashion-mnist}, else {@code ./data/fashion-mnist}. */
    public static Path defaultBundledDir() {
        String home = System.getProperty(HOME_PROPERTY);
        return (home == null || home.isBlank() ? Path.of("") : Path.of(home)).resolve(BUNDLED_RELATIVE).toAbsolutePath();
    }

    /**
     * One line saying which data this is, e.g. {@code "Fashion-MNIST from /usr/share/datasets/fashion-mnist
     * (system package): 60,000 training / 10,000 test images"}, or for the test split only, that
     * training used its first 8,000 images and evaluation its last 2,000.
     */
    public String description() {
        String where = switch (source) {
            case EXPLICIT -> "Fashion-MNIST from " + directory;
            case SYSTEM -> "Fashion-MNIST from " + directory + " (Debian package dataset-fashion-mnist)";
            case BUNDLED -> "bundled Fashion-MNIST test split from " + directory;
        };
        if (testSplitOnly) {
            int n = train.size() + test.size();
            return String.format(Locale.ROOT,
                    "%s: only the %,d-image test split is available, so training uses its first %,d images and "
                            + "evaluation its last %,d (not the standard 60,000/10,000 split)",
                    where, n, train.size(), test.size());
        }
        return String.format(Locale.ROOT, "%s: %,d training / %,d test images", where, train.size(), test.size());
    }

    /** A short tag for machine-readable output: {@code "system"}, {@code "explicit"}, {@code "bundled-test-split"}, .... */
    public String tag() {
        String s = source.name().toLowerCase(Locale.ROOT);
        return testSplitOnly ? s + "-test-split" : s;
    }

    private static ArrayDataset readSplit(Path dir, String imagesName, String labelsName) throws IOException {
        Path imagesFile = require(dir, imagesName);
        Path labelsFile = require(dir, labelsName);
        Idx images = Idx.read(imagesFile, Idx.Type.UBYTE, 3);
        if (images.dim(1) != SIDE || images.dim(2) != SIDE) {
            throw new IdxFormatException(imagesFile, "expected " + SIDE + "x" + SIDE + " images, found "
                    + images.dim(1) + "x" + images.dim(2));
        }
        Idx labelIdx = Idx.read(labelsFile, Idx.Type.UBYTE, 1);
        if (labelIdx.dim(0) != images.dim(0)) {
            throw new IdxFormatException(labelsFile, "holds " + labelIdx.dim(0) + " labels but " + imagesFile.getFileName()
                    + " holds " + images.dim(0) + " images");
        }
        long[] labels = labelIdx.toLongArray();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= CLASSES) {
                throw new IdxFormatException(labelsFile, "label " + labels[i] + " at index " + i
                        + " is out of range [0, " + CLASSES + ")");
            }
        }
        float[] pixels = images.toFloatArray(1f / 255f); // [N, 784] in [0, 1]
        return new ArrayDataset(pixels, labels, FEATURES);
    }

    private static boolean hasAll(Path dir, String... names) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        for (String n : names) {
            if (find(dir, n) == null) {
                return false;
            }
        }
        return true;
    }

    /** The file {@code name} or {@code name.gz} in {@code dir}, or null. */
    private static Path find(Path dir, String name) {
        Path raw = dir.resolve(name);
        if (Files.isRegularFile(raw)) {
            return raw;
        }
        Path gz = dir.resolve(name + ".gz");
        return Files.isRegularFile(gz) ? gz : null;
    }

    private static Path require(Path dir, String name) throws NoSuchFileException {
        Path p = find(dir, name);
        if (p == null) {
            throw new NoSuchFileException(dir.resolve(name + ".gz").toString(), null,
                    "no such file (nor " + name + " uncompressed)");
        }
        return p;
    }
}
