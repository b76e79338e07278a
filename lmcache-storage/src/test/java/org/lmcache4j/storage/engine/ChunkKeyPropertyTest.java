package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.openhft.hashing.LongTupleHashFunction;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.hash.ChunkHasher;
import org.lmcache4j.storage.hash.PromptChunks;
import org.lmcache4j.storage.keys.PrefixKeys;
import org.lmcache4j.testing.PropertyCheck;
import org.lmcache4j.testing.PropertyCheck.Gen;

/**
 * Properties of chunk keys, chunking and masks, each checked against a reference written here from the
 * documented formulas (ChunkHasher's class comment, CacheNamespace#canonicalBytes, KvConnector's masks),
 * not from the code under test.
 */
class ChunkKeyPropertyTest {

    private static final byte[] DOMAIN = "lmcache4j/chunk-key/1".getBytes(StandardCharsets.UTF_8);

    @Test
    void prefixKeysFollowTheDocumentedChainForAnyPromptConfigAndLayout() {
        PropertyCheck.forAll("PrefixKeys = reference chain", 300, gen -> {
            KvLayout layout = gen.chance(0.5)
                    ? KvLayout.standard(gen.between(1, 4), gen.between(1, 4), 8 * gen.between(1, 4), gen.oneOf(KvDtype.values()))
                    : KvLayout.mla(gen.between(1, 4), 16 * gen.between(1, 4), gen.oneOf(KvDtype.values()));
            int world = gen.between(1, 4);
            int chunk = chunkTokens(gen);
            LmCacheConfig config = LmCacheConfig.builder().modelId(text(gen, false)).tenantSalt(text(gen, true))
                    .tensorParallel(gen.between(0, world - 1), world).chunkTokens(chunk)
                    .saveUnfullChunk(gen.chance(0.5)).hashAlgorithm(gen.oneOf(HashAlgorithm.values())).noLocalDisk().build();
            int[] tokens = gen.tokens(promptLength(gen, chunk), gen.oneOf(2, 50_000, Integer.MAX_VALUE));
            if (gen.chance(0.2) && tokens.length > 0) {
                tokens[gen.between(0, tokens.length - 1)] = gen.oneOf(-1, Integer.MIN_VALUE, Integer.MAX_VALUE);
            }
            List<ChunkKey> expected = referenceChain(config.hashAlgorithm(), config.namespace(layout), tokens, chunk,
                    config.saveUnfullChunk());
            assertEquals(expected, PrefixKeys.of(config, layout).keys(tokens));
            assertEquals(expected, PrefixKeys.of(config, layout).keys(tokens.clone()), "deterministic");
        });
    }

    @Test
    void promptChunksCoverThePromptAndHashLazilyInAnyOrder() {
        PropertyCheck.forAll("PromptChunks boundaries and lazy keys", 300, gen -> {
            HashAlgorithm algorithm = gen.oneOf(HashAlgorithm.values());
            CacheNamespace ns = namespace(gen);
            int chunk = chunkTokens(gen);
            boolean tail = gen.chance(0.5);
            int[] tokens = gen.tokens(promptLength(gen, chunk), 1000);
            PromptChunks chunks = new PromptChunks(ChunkHasher.create(algorithm, ns), tokens, chunk, tail);

            // boundaries: consecutive, non-empty, full chunks of exactly `chunk` tokens, at most one shorter last one
            int expectedCount = 0;
            for (int start = 0; start < tokens.length && (tail || tokens.length - start >= chunk); start += chunk) {
                expectedCount++;
            }
            assertEquals(expectedCount, chunks.count(), "chunk count");
            int covered = 0;
            for (int i = 0; i < chunks.count(); i++) {
                assertEquals(covered, chunks.start(i), "chunk " + i + " starts where the last ended");
                assertTrue(chunks.end(i) > chunks.start(i), "chunk " + i + " not empty");
                assertTrue(chunks.end(i) - chunks.start(i) == chunk || i == chunks.count() - 1 && tail,
                        "only a last partial chunk may be short");
                assertEquals(tokens.length - chunks.start(i), chunks.remaining(i));
                covered = chunks.end(i);
            }
            assertEquals(tail ? tokens.length : tokens.length / chunk * chunk, covered, "tokens covered");

            // keys, asked for in random order: each equals the reference
            List<ChunkKey> expected = referenceChain(algorithm, ns, tokens, chunk, tail);
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < chunks.count(); i++) {
                order.add(i);
            }
            java.util.Collections.shuffle(order, new java.util.Random(gen.seed()));
            for (int i : order) {
                assertEquals(expected.get(i), chunks.key(i), "key " + i);
                assertEquals(i == 0 ? rootKey(algorithm, ns) : expected.get(i - 1), chunks.parent(i), "parent " + i);
            }

            // a partial key is the key of the prompt cut there, and never the full chunk's key
            if (chunks.count() > 0) {
                int i = gen.between(0, chunks.count() - 1);
                int length = gen.between(1, chunks.end(i) - chunks.start(i));
                List<ChunkKey> cut = referenceChain(algorithm, ns, Arrays.copyOf(tokens, chunks.start(i) + length), chunk, true);
                assertEquals(cut.get(i), chunks.partialKey(i, length), "partial key of chunk " + i + " at " + length);
                if (length < chunks.end(i) - chunks.start(i)) {
                    assertNotEquals(chunks.key(i), chunks.partialKey(i, length), "partial key equals the longer chunk's");
                }
            }
        });
    }

    @Test
    void twoKeysAreEqualExactlyWhenTheirWholeTokenPrefixesAreEqual() {
        // Covers: a key depends on every token up to its chunk's end and on nothing after; two prompts share
        // exactly the keys of their common prefix; changing a token changes its chunk's key and every later
        // one; a partial tail never equals a full chunk or a longer tail.
        PropertyCheck.forAll("key equality = prefix equality", 400, gen -> {
            HashAlgorithm algorithm = gen.oneOf(HashAlgorithm.values());
            CacheNamespace ns = namespace(gen);
            int chunk = gen.between(1, 8);
            boolean tail = gen.chance(0.7);
            int vocab = gen.between(1, 3); // tiny vocabulary: equal prefixes are common
            int[] a = gen.tokens(gen.size(6 * chunk + 3), vocab);
            int[] b = mutate(gen, a, vocab);
            ChunkHasher hasher = ChunkHasher.create(algorithm, ns);
            PromptChunks ca = new PromptChunks(hasher, a, chunk, tail);
            PromptChunks cb = new PromptChunks(hasher, b, chunk, tail);
            for (int i = 0; i < ca.count(); i++) {
                for (int j = 0; j < cb.count(); j++) {
                    boolean samePrefix = Arrays.equals(a, 0, ca.end(i), b, 0, cb.end(j));
                    if (samePrefix != ca.key(i).equals(cb.key(j))) {
                        throw new AssertionError("chunk " + i + " of " + Arrays.toString(a) + " vs chunk " + j + " of "
                                + Arrays.toString(b) + ": prefixes " + (samePrefix ? "equal" : "differ") + " but keys do not");
                    }
                }
            }
        });
    }

    @Test
    void differentNamespacesNeverShareAKey() {
        PropertyCheck.forAll("namespaces are disjoint", 300, gen -> {
            HashAlgorithm algorithm = gen.oneOf(HashAlgorithm.values());
            CacheNamespace n1 = namespace(gen);
            CacheNamespace n2 = gen.chance(0.2) ? n1 : nearby(gen, n1);
            assertArrayEquals(referenceCanonicalBytes(n1), n1.canonicalBytes(), "canonical bytes");
            int chunk = gen.between(1, 16);
            int[] tokens = gen.tokens(gen.between(1, 4 * chunk), 4);
            List<ChunkKey> k1 = referenceChain(algorithm, n1, tokens, chunk, true);
            List<ChunkKey> k2 = new ArrayList<>();
            PromptChunks chunks = new PromptChunks(ChunkHasher.create(algorithm, n2), tokens, chunk, true);
            for (int i = 0; i < chunks.count(); i++) {
                k2.add(chunks.key(i));
            }
            if (n1.equals(n2)) {
                assertEquals(k1, k2, "same namespace, same keys");
                assertEquals(n1.id(), n2.id());
            } else {
                assertNotEquals(n1.id(), n2.id(), n1 + " vs " + n2);
                assertTrue(!Arrays.equals(n1.canonicalBytes(), n2.canonicalBytes()), n1 + " vs " + n2);
                Set<ChunkKey> shared = new HashSet<>(k1);
                shared.retainAll(k2);
                assertEquals(Set.of(), shared, n1 + " vs " + n2);
            }
        });
    }

    @Test
    void chunkKeysRoundTripThroughHexAndOrderAsUnsignedBytes() {
        PropertyCheck.forAll("ChunkKey bytes, hex and order", 500, gen -> {
            byte[] raw = gen.bytes(gen.between(0, 70));
            boolean valid = raw.length >= 16 && raw.length <= 64;
            if (!valid) {
                assertThrows(IllegalArgumentException.class, () -> ChunkKey.of(raw));
                assertThrows(IllegalArgumentException.class, () -> ChunkKey.ofHex(java.util.HexFormat.of().formatHex(raw)));
                return;
            }
            ChunkKey k = ChunkKey.of(raw);
            byte[] copy = raw.clone();
            raw[0] ^= 1; // the key took a copy
            assertArrayEquals(copy, k.toBytes());
            k.toBytes()[0] ^= 1; // and hands out copies
            assertArrayEquals(copy, k.toBytes());
            assertEquals(k, ChunkKey.ofHex(k.toString()));
            assertEquals(k, ChunkKey.ofHex(k.toString().toUpperCase(java.util.Locale.ROOT)));
            assertEquals(2 * copy.length, k.toString().length());
            String hex = k.toString();
            String broken = gen.chance(0.5) ? hex.substring(1) : hex.substring(0, hex.length() - 1) + gen.oneOf("g", "-", " ", "é");
            assertThrows(IllegalArgumentException.class, () -> ChunkKey.ofHex(broken), broken);

            byte[] other = gen.chance(0.5) ? copy.clone() : gen.bytes(gen.between(16, 64));
            if (other.length > 0 && gen.chance(0.5)) {
                other[gen.between(0, other.length - 1)] ^= (byte) gen.between(1, 255);
            }
            ChunkKey o = ChunkKey.of(other);
            int expectedOrder = Integer.signum(unsignedCompare(copy, other));
            assertEquals(expectedOrder, Integer.signum(k.compareTo(o)));
            assertEquals(-expectedOrder, Integer.signum(o.compareTo(k)));
            assertEquals(expectedOrder == 0, k.equals(o));
            if (expectedOrder == 0) {
                assertEquals(k.hashCode(), o.hashCode());
            }
        });
    }

    @Test
    void masksAreAcceptedExactlyWhenTheyAreAFalsePrefixThenTrue() {
        PropertyCheck.forAll("store and retrieve masks", 1000, gen -> {
            int chunk = gen.between(1, 8);
            int tokens = gen.size(5 * chunk);
            boolean[] mask = mask(gen, tokens, chunk);
            // reference: the documented shapes
            int prefix = -1; // -1: not of the shape false* true*
            if (mask == null) {
                prefix = 0;
            } else if (mask.length == tokens) {
                int p = 0;
                while (p < mask.length && !mask[p]) {
                    p++;
                }
                boolean rest = true;
                for (int i = p; i < mask.length; i++) {
                    rest &= mask[i];
                }
                prefix = rest ? p : -1;
            }
            String what = Arrays.toString(mask) + " for " + tokens + " tokens, chunks of " + chunk;
            if (prefix >= 0) {
                assertEquals(prefix, KvArguments.retrieveMaskPrefix(mask, tokens), what);
            } else {
                assertThrows(IllegalArgumentException.class, () -> KvArguments.retrieveMaskPrefix(mask, tokens), what);
            }
            if (prefix >= 0 && prefix % chunk == 0) {
                assertEquals(prefix, KvArguments.storeMaskPrefix(mask, tokens, chunk), what);
            } else {
                assertThrows(IllegalArgumentException.class, () -> KvArguments.storeMaskPrefix(mask, tokens, chunk), what);
            }
        });
    }

    // ---- generators

    private static int chunkTokens(Gen gen) {
        // now and then larger than the hasher's 8 KiB scratch buffer (2048 tokens), so it must grow
        return gen.chance(0.05) ? gen.between(2000, 2100) : gen.between(1, 64);
    }

    private static int promptLength(Gen gen, int chunk) {
        return gen.chance(0.1) ? gen.oneOf(chunk - 1, chunk, chunk + 1, 3 * chunk) : gen.size(Math.min(8 * chunk + 5, 1200));
    }

    /**
     * Text from a tiny alphabet (so concatenations of different fields often coincide), possibly blank; no
     * control characters or unpaired surrogates, which model ids reject (salts take a NUL, a pair is fine).
     */
    private static String text(Gen gen, boolean blankAllowed) {
        String[] parts = blankAllowed ? new String[] {"a", "b", "ab", "é", "/", "0", "\u0000", "\uD83D\uDE00"}
                : new String[] {"a", "b", "ab", "é", "/", "0", "\uD83D\uDE00"};
        StringBuilder s = new StringBuilder();
        int n = gen.between(blankAllowed ? 0 : 1, 3);
        for (int i = 0; i < n; i++) {
            s.append(gen.oneOf(parts));
        }
        return s.toString();
    }

    private static CacheNamespace namespace(Gen gen) {
        int world = gen.between(1, 3);
        return new CacheNamespace(text(gen, false), text(gen, false), text(gen, true), gen.between(0, world - 1), world);
    }

    /** A namespace that differs from {@code ns} in one or two fields (possibly, by chance, in none). */
    private static CacheNamespace nearby(Gen gen, CacheNamespace ns) {
        String model = ns.modelId();
        String layout = ns.layoutFingerprint();
        String salt = ns.tenantSalt();
        int rank = ns.tpRank();
        int world = ns.tpWorldSize();
        for (int changes = gen.between(1, 2); changes > 0; changes--) {
            switch (gen.between(0, 4)) {
                case 0 -> model = text(gen, false);
                case 1 -> layout = text(gen, false);
                case 2 -> salt = text(gen, true);
                case 3 -> rank = gen.between(0, world - 1);
                default -> {
                    world = gen.between(1, 3);
                    rank = Math.min(rank, world - 1);
                }
            }
        }
        return new CacheNamespace(model, layout, salt, rank, world);
    }

    /** {@code a} truncated, extended, with a token changed, or unchanged. */
    private static int[] mutate(Gen gen, int[] a, int vocab) {
        int[] b = a.clone();
        for (int steps = gen.between(0, 2); steps > 0; steps--) {
            switch (gen.between(0, 2)) {
                case 0 -> b = Arrays.copyOf(b, gen.between(0, b.length));
                case 1 -> {
                    int[] more = gen.tokens(gen.between(0, 10), vocab);
                    int[] c = Arrays.copyOf(b, b.length + more.length);
                    System.arraycopy(more, 0, c, b.length, more.length);
                    b = c;
                }
                default -> {
                    if (b.length > 0) {
                        b[gen.between(0, b.length - 1)] = gen.between(0, vocab); // may be a new token id
                    }
                }
            }
        }
        return b;
    }

    /** Null, a valid store or retrieve mask, one with a wrong length, or one with a flip. */
    private static boolean[] mask(Gen gen, int tokens, int chunk) {
        if (gen.chance(0.1)) {
            return null;
        }
        int length = gen.chance(0.1) ? Math.max(0, tokens + gen.oneOf(-1, 1)) : tokens;
        boolean[] m = new boolean[length];
        int prefix = gen.chance(0.5) ? Math.min(length, chunk * gen.between(0, length / chunk + 1)) : gen.between(0, length);
        Arrays.fill(m, prefix, length, true);
        for (int flips = gen.chance(0.6) ? 0 : gen.between(1, 2); flips > 0 && length > 0; flips--) {
            int at = gen.between(0, length - 1);
            m[at] = !m[at];
        }
        return m;
    }

    // ---- the reference

    /** The documented chain: root from domain, algorithm and namespace; each key from parent, tokens and count. */
    static List<ChunkKey> referenceChain(HashAlgorithm algorithm, CacheNamespace ns, int[] tokens, int chunk, boolean tail) {
        List<ChunkKey> keys = new ArrayList<>();
        byte[] parent = rootKey(algorithm, ns).toBytes();
        for (int start = 0; start < tokens.length; start += chunk) {
            int end = Math.min(tokens.length, start + chunk);
            if (end - start < chunk && !tail) {
                break;
            }
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            in.writeBytes(parent);
            for (int i = start; i < end; i++) {
                writeIntLittleEndian(in, tokens[i]);
            }
            writeIntLittleEndian(in, end - start);
            parent = hash(algorithm, in.toByteArray());
            keys.add(ChunkKey.of(parent));
        }
        return keys;
    }

    private static ChunkKey rootKey(HashAlgorithm algorithm, CacheNamespace ns) {
        ByteArrayOutputStream seed = new ByteArrayOutputStream();
        seed.writeBytes(DOMAIN);
        seed.writeBytes(algorithm.name().getBytes(StandardCharsets.UTF_8));
        seed.writeBytes(referenceCanonicalBytes(ns));
        return ChunkKey.of(hash(algorithm, seed.toByteArray()));
    }

    /** Each field as a big-endian 4-byte length and its UTF-8 bytes. */
    private static byte[] referenceCanonicalBytes(CacheNamespace ns) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String field : List.of("lmcache4j-namespace/1", ns.modelId(), ns.layoutFingerprint(), ns.tenantSalt(),
                String.valueOf(ns.tpRank()), String.valueOf(ns.tpWorldSize()))) {
            byte[] b = field.getBytes(StandardCharsets.UTF_8);
            out.write(b.length >>> 24);
            out.write(b.length >>> 16);
            out.write(b.length >>> 8);
            out.write(b.length);
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    private static byte[] hash(HashAlgorithm algorithm, byte[] input) {
        try {
            return switch (algorithm) {
                case SHA_256 -> MessageDigest.getInstance("SHA-256").digest(input);
                case XXH3_128 -> {
                    long[] h = LongTupleHashFunction.xx128().hashBytes(input);
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    for (long half : h) {
                        writeIntLittleEndian(out, (int) half);
                        writeIntLittleEndian(out, (int) (half >>> 32));
                    }
                    yield out.toByteArray();
                }
            };
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeIntLittleEndian(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    private static int unsignedCompare(byte[] a, byte[] b) {
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            int d = (a[i] & 0xff) - (b[i] & 0xff);
            if (d != 0) {
                return d;
            }
        }
        return a.length - b.length;
    }
}
