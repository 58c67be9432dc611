package dev.sinew.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @TempDir
    Path tmp;

    /** Writes n synthetic 28x28 images (pixel = label * 20 + 5) and labels i % 10. */
    static void writeSplit(Path dir, String prefix, int n, boolean gzip) throws IOException {
        Files.createDirectories(dir);
        byte[] px = new byte[n * 784];
        byte[] lb = new byte[n];
        for (int i = 0; i < n; i++) {
            lb[i] = (byte) (i % 10);
            java.util.Arrays.fill(px, i * 784, (i + 1) * 784, (byte) (lb[i] * 20 + 5));
        }
        String gz = gzip ? ".gz" : "";
        Idx.write(dir.resolve(prefix + "-images-idx3-ubyte" + gz), Idx.Type.UBYTE, new int[] {n, 28, 28}, px, gzip);
        Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte" + gz), Idx.Type.UBYTE, new int[] {n}, lb, gzip);
    }

    @Test
    void loadsAFullDirectory() throws IOException {
        Path d = tmp.resolve("full");
        writeSplit(d, "train", 30, true);
        writeSplit(d, "t10k", 12, false);
        FashionMnist fm = FashionMnist.load(d, null, null);
        assertEquals(30, fm.train().size());
        assertEquals(12, fm.test().size());
        assertFalse(fm.testSplitOnly());
        assertEquals(FashionMnist.Source.EXPLICIT, fm.source());
        assertEquals(784, fm.train().sampleSize());
        assertEquals(3, fm.train().label(13));
        assertEquals((3 * 20 + 5) / 255f, fm.train().feature(13, 500), 1e-7f);
        assertTrue(fm.description().contains("30 training / 12 test images"), fm.description());
        assertEquals("explicit", fm.tag());
    }

    @Test
    void testSplitOnlyIsSplitEightyTwentyAndSaysSo() throws IOException {
        Path d = tmp.resolve("bundled");
        writeSplit(d, "t10k", 50, true);
        FashionMnist fm = FashionMnist.load(null, tmp.resolve("no-system"), d);
        assertEquals(FashionMnist.Source.BUNDLED, fm.source());
        assertTrue(fm.testSplitOnly());
        assertEquals(40, fm.train().size());
        assertEquals(10, fm.test().size());
        assertEquals(0, fm.test().label(0)); // sample 40
        assertTrue(fm.description().contains("training uses its first 40 images and evaluation its last 10"), fm.description());
        assertEquals("bundled-test-split", fm.tag());
    }

    @Test
    void systemDirectoryWinsOverBundled() throws IOException {
        Path sys = tmp.resolve("sys");
        writeSplit(sys, "train", 20, true);
        writeSplit(sys, "t10k", 10, true);
        Path bundled = tmp.resolve("bundled");
        writeSplit(bundled, "t10k", 10, true);
        FashionMnist fm = FashionMnist.load(null, sys, bundled);
        assertEquals(FashionMnist.Source.SYSTEM, fm.source());
        assertEquals(20, fm.train().size());
        // A system directory lacking files is skipped, not an error.
        Files.delete(sys.resolve("train-labels-idx1-ubyte.gz"));
        assertEquals(FashionMnist.Source.BUNDLED, FashionMnist.load(null, sys, bundled).source());
    }

    @Test
    void nothingFoundSaysWhereItLooked() {
        FileNotFoundException e = assertThrows(FileNotFoundException.class,
                () -> FashionMnist.load(null, tmp.resolve("a"), tmp.resolve("b")));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains(tmp.resolve("b").toString()), e.getMessage());
    }

    @Test
    void explicitDirectoryProblemsNameTheFile() throws IOException {
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> FashionMnist.load(tmp.resolve("missing-dir"), null, null));
        assertTrue(e.getMessage().contains("missing-dir: no such directory"), e.getMessage());

        Path d = tmp.resolve("partial");
        writeSplit(d, "train", 10, true);
        writeSplit(d, "t10k", 10, true);
        Files.delete(d.resolve("train-labels-idx1-ubyte.gz"));
        e = assertThrows(NoSuchFileException.class, () -> FashionMnist.load(d, null, null));
        assertTrue(e.getMessage().contains("train-labels-idx1-ubyte.gz: no such file"), e.getMessage());

        Path t = tmp.resolve("truncated");
        writeSplit(t, "t10k", 10, false);
        Path images = t.resolve("t10k-images-idx3-ubyte");
        byte[] all = Files.readAllBytes(images);
        Files.write(images, java.util.Arrays.copyOf(all, all.length - 1));
        IdxFormatException f = assertThrows(IdxFormatException.class, () -> FashionMnist.load(t, null, null));
        IdxTest.assertOneLineNaming(f, images, "truncated");
    }

    @Test
    void inconsistentFilesAreRejected() throws IOException {
        Path d = tmp.resolve("mismatch");
        writeSplit(d, "t10k", 10, false);
        Idx.write(d.resolve("t10k-labels-idx1-ubyte"), Idx.Type.UBYTE, new int[] {9}, new byte[9], false);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.load(d, null, null));
        assertTrue(e.getMessage().contains("holds 9 labels but t10k-images-idx3-ubyte holds 10 images"), e.getMessage());

        byte[] bad = new byte[10];
        bad[4] = 10;
        Idx.write(d.resolve("t10k-labels-idx1-ubyte"), Idx.Type.UBYTE, new int[] {10}, bad, false);
        e = assertThrows(IdxFormatException.class, () -> FashionMnist.load(d, null, null));
        assertTrue(e.getMessage().contains("label 10 at index 4 is out of range [0, 10)"), e.getMessage());

        Idx.write(d.resolve("t10k-images-idx3-ubyte"), Idx.Type.UBYTE, new int[] {10, 28, 27}, new byte[10 * 28 * 27], false);
        e = assertThrows(IdxFormatException.class, () -> FashionMnist.load(d, null, null));
        assertTrue(e.getMessage().contains("expected 28x28 images, found 28x27"), e.getMessage());
    }

    @Test
    void bundledCopyInTheRepositoryIsIntact() throws IOException {
        Path bundled = Path.of("..").resolve(FashionMnist.BUNDLED_RELATIVE).toAbsolutePath().normalize();
        assumeTrue(Files.isDirectory(bundled), "no bundled copy at " + bundled);
        FashionMnist fm = FashionMnist.load(null, null, bundled);
        assertTrue(fm.testSplitOnly());
        assertEquals(8000, fm.train().size());
        assertEquals(2000, fm.test().size());
        int[] perClass = new int[10];
        for (int i = 0; i < 8000; i++) {
            perClass[(int) fm.train().label(i)]++;
        }
        for (int c : perClass) {
            assertTrue(c > 600 && c < 1000, "class counts look like Fashion-MNIST: " + java.util.Arrays.toString(perClass));
        }
    }
}
