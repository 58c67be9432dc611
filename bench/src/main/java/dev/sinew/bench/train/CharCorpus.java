package dev.sinew.bench.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;

/**
 * The text a character-level language model trains on, as ids into its vocabulary, split into a
 * training part (the first 90 %) and a validation part (the last 10 %), each a contiguous stretch.
 *
 * <p><b>Vocabulary.</b> Chosen from the corpus itself: its distinct characters after normalisation,
 * sorted by code point (72 for the bundled King James text). Normalisation maps what a plain-text
 * corpus should not need to distinguish: CR LF and CR to LF, tabs and other blanks to a space,
 * typographic quotes, dashes and ellipses to ASCII, and accented letters to their base letter
 * (Unicode NFKD with the combining marks dropped). If more than {@value #MAX_VOCAB} distinct
 * characters remain, the {@value #MAX_VOCAB}−1 most frequent are kept and every other one maps to
 * {@value #UNKNOWN}, which then joins the vocabulary; so a vocabulary never exceeds
 * {@value #MAX_VOCAB} and no text is refused for its characters.
 *
 * <p>The bundled corpus is {@code data/kjv/kjv-genesis-esther.txt.gz} under Sinew's root (system
 * property {@code sinew.home}, else the working directory): the King James Bible from Genesis to
 * Esther, public domain (see {@code data/kjv/README.md}).
 *
 * <p>Immutable once made; the id arrays are not copied out, so callers must not change them (the
 * accessors return them for speed). Thread-safe.
 */
public final class CharCorpus {
    /** The most characters a vocabulary holds. */
    public static final int MAX_VOCAB = 96;
    /** What characters outside a capped vocabulary become. */
    public static final char UNKNOWN = '\uFFFD';
    /** The bundled corpus relative to Sinew's root. */
    public static final Path BUNDLED_RELATIVE = Path.of("data", "kjv", "kjv-genesis-esther.txt.gz");
    /** The fraction of the text used for training; the rest is validation. */
    public static final double TRAIN_FRACTION = 0.9;
    /** Texts shorter than this many characters are refused. */
    public static final int MIN_CHARS = 20;

    private final String vocab;  // the characters, by id
    private final int[] train;   // ids of the first 90 %
    private final int[] valid;   // ids of the last 10 %
    private final String description;
    private final String tag;
    private final long crc;

    private CharCorpus(String vocab, int[] ids, String description, String tag) {
        this.vocab = vocab;
        int cut = (int) Math.round(ids.length * TRAIN_FRACTION);
        this.train = Arrays.copyOfRange(ids, 0, cut);
        this.valid = Arrays.copyOfRange(ids, cut, ids.length);
        this.description = description;
        this.tag = tag;
        CRC32C c = new CRC32C();
        for (int id : ids) {
            c.update(id);
        }
        this.crc = c.getValue();
    }

    /**
     * The corpus in {@code file} (UTF-8 text, gzip-compressed or not), or the bundled one when
     * {@code file} is null.
     *
     * @throws IOException              if the file is missing or unreadable
     * @throws IllegalArgumentException if it is not UTF-8 text or is too short
     */
    public static CharCorpus load(Path file) throws IOException {
        if (file == null) {
            Path bundled = bundledPath();
            if (!Files.isRegularFile(bundled)) {
                throw new NoSuchFileException(bundled.toString(), null, "the bundled corpus is missing (set -D"
                        + "sinew.home=<sinew checkout>, or pass --text FILE)");
            }
            CharCorpus c = fromText(read(bundled), "bundled", "");
            return c.described("King James Bible, Genesis to Esther (public domain), bundled at " + bundled);
        }
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(file + ": is a directory; --text needs a text file");
        }
        CharCorpus c = fromText(read(file), "explicit", file.toString());
        return c.described(file.toString());
    }

    /** {@code ${sinew.home}/data/kjv/kjv-genesis-esther.txt.gz}, else relative to the working directory. */
    public static Path bundledPath() {
        String home = System.getProperty("sinew.home");
        return (home == null || home.isBlank() ? Path.of("") : Path.of(home)).resolve(BUNDLED_RELATIVE).toAbsolutePath();
    }

    /** A corpus of {@code text}; {@code where} names it in errors. */
    public static CharCorpus fromText(String text, String tag, String where) {
        String t = normalise(text);
        if (t.length() < MIN_CHARS) {
            throw new IllegalArgumentException((where.isEmpty() ? "the text" : where) + ": has " + t.length()
                    + " characters; a character model needs at least " + MIN_CHARS);
        }
        int[] counts = new int[Character.MAX_VALUE + 1];
        for (int i = 0; i < t.length(); i++) {
            counts[t.charAt(i)]++;
        }
        int distinct = 0;
        for (int n : counts) {
            distinct += n > 0 ? 1 : 0;
        }
        boolean[] keep = new boolean[counts.length];
        if (distinct <= MAX_VOCAB) {
            for (int ch = 0; ch < counts.length; ch++) {
                keep[ch] = counts[ch] > 0;
            }
        } else {
            Integer[] order = new Integer[counts.length];
            for (int ch = 0; ch < order.length; ch++) {
                order[ch] = ch;
            }
            Arrays.sort(order, (a, b) -> counts[b] != counts[a] ? Integer.compare(counts[b], counts[a]) : Integer.compare(a, b));
            for (int k = 0; k < MAX_VOCAB - 1; k++) {
                keep[order[k]] = true;
            }
            keep[UNKNOWN] = true;
        }
        StringBuilder v = new StringBuilder();
        int[] idOf = new int[counts.length];
        for (int ch = 0; ch < counts.length; ch++) {
            if (keep[ch]) {
                idOf[ch] = v.length();
                v.append((char) ch);
            }
        }
        int unknownId = keep[UNKNOWN] ? idOf[UNKNOWN] : -1;
        int[] ids = new int[t.length()];
        for (int i = 0; i < ids.length; i++) {
            char ch = t.charAt(i);
            ids[i] = keep[ch] ? idOf[ch] : unknownId;
        }
        return new CharCorpus(v.toString(), ids, where, tag);
    }

    private CharCorpus described(String description) {
        return new CharCorpus(this, description);
    }

    private CharCorpus(CharCorpus c, String description) {
        this.vocab = c.vocab;
        this.train = c.train;
        this.valid = c.valid;
        this.tag = c.tag;
        this.crc = c.crc;
        this.description = description;
    }

    /**
     * The text with line ends, blanks, typographic punctuation and accents made plain (see the class
     * comment); other characters are kept.
     */
    static String normalise(String text) {
        String s = text.replace("\r\n", "\n").replace('\r', '\n');
        if (!s.chars().allMatch(ch -> ch < 128)) {
            s = Normalizer.normalize(s, Normalizer.Form.NFKD).replaceAll("\\p{M}+", "");
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\t', '\u000B', '\f', '\u00A0', '\u2007', '\u202F' -> b.append(' ');
                case '\u2018', '\u2019', '\u201A', '\u201B', '\u2032' -> b.append('\'');
                case '\u201C', '\u201D', '\u201E', '\u201F', '\u2033', '\u00AB', '\u00BB' -> b.append('"');
                case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212' -> b.append('-');
                case '\u2026' -> b.append("...");
                case '\uFEFF' -> { } // byte-order mark
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    private static String read(Path file) throws IOException {
        byte[] bytes;
        try (InputStream raw = Files.newInputStream(file); PushbackInputStream in = new PushbackInputStream(raw, 2)) {
            byte[] head = in.readNBytes(2);
            in.unread(head);
            boolean gz = head.length == 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B;
            try (InputStream body = gz ? new GZIPInputStream(in) : in) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                body.transferTo(out);
                bytes = out.toByteArray();
            } catch (java.util.zip.ZipException | java.io.EOFException e) {
                throw new IllegalArgumentException(file + ": corrupt gzip data (" + e.getMessage() + ")");
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": is not UTF-8 text");
        }
    }

    /** The characters by id. */
    public String vocab() {
        return vocab;
    }

    public int vocabSize() {
        return vocab.length();
    }

    /** The id of {@code ch}, or -1 if it is not in the vocabulary. */
    public int idOf(char ch) {
        return vocab.indexOf(ch);
    }

    /** The training ids (do not modify). */
    public int[] train() {
        return train;
    }

    /** The validation ids (do not modify). */
    public int[] valid() {
        return valid;
    }

    /** One line naming the corpus. */
    public String description() {
        return description;
    }

    /** {@code bundled} or {@code explicit}. */
    public String tag() {
        return tag;
    }

    /** CRC-32C of all ids in order: a fingerprint to check a resumed run's data. */
    public long crc() {
        return crc;
    }

    /** The text of {@code ids}. */
    public String decode(int[] ids, int from, int to) {
        StringBuilder b = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            b.append(vocab.charAt(ids[i]));
        }
        return b.toString();
    }
}
