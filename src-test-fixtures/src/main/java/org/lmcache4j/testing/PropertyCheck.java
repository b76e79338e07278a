package org.lmcache4j.testing;

import java.util.SplittableRandom;

/**
 * A property test runner: calls a property with a seeded random source a bounded number of times and,
 * when a try fails, rethrows with the try's seed, so the failure can be replayed exactly.
 *
 * <p>Each try gets its own seed, derived from a base seed: a fresh random one per run. A failure prints
 * the value to give the system property {@value #SEED_PROPERTY} to replay it
 * ({@code -Dlmcache.property.seed=<seed>:<try>:<tries>} on the Maven command line; surefire passes it
 * on): the try's seed and its place in the run, since {@link Gen#size} depends on both. A replay runs only
 * the failing try; a bare {@code <seed>} replays it as the last try (sizes drawn from the whole range).
 * The number of tries is the caller's, so suite time stays bounded; {@value #TRIES_PROPERTY} scales it
 * for a longer soak.
 *
 * <p>There is no shrinking: properties draw small sizes first ({@link Gen#size}) so the first failing
 * try is usually a small case.
 */
public final class PropertyCheck {

    /** System property naming one try's seed to replay. */
    public static final String SEED_PROPERTY = "lmcache.property.seed";
    /** System property multiplying every property's number of tries (default 1). */
    public static final String TRIES_PROPERTY = "lmcache.property.triesFactor";

    /** One property: it throws (an assertion error, say) when it does not hold for this try. */
    @FunctionalInterface
    public interface Property {
        void check(Gen gen) throws Exception;
    }

    private PropertyCheck() {
    }

    /**
     * Runs {@code property} {@code tries} times (or once, with the replay seed when set).
     *
     * @param name   what the property says; printed with a failure
     * @throws AssertionError naming the property, the try and its seed, caused by the property's failure
     */
    public static void forAll(String name, int tries, Property property) {
        if (tries <= 0) {
            throw new IllegalArgumentException("tries: " + tries + " (expected: > 0)");
        }
        String replay = System.getProperty(SEED_PROPERTY);
        if (replay != null && !replay.isBlank()) {
            replay(name, replay.trim(), property);
            return;
        }
        int total = Math.max(1, (int) Math.min(Integer.MAX_VALUE, (long) tries * factor()));
        SplittableRandom seeds = new SplittableRandom();
        for (int i = 0; i < total; i++) {
            runOne(name, i, total, seeds.nextLong(), property);
        }
    }

    /** Runs the one try named by {@code value}: {@code <seed>:<try>:<tries>}, or a bare seed as the last try. */
    private static void replay(String name, String value, Property property) {
        String[] parts = value.split(":", -1);
        try {
            long seed = Long.parseLong(parts[0]);
            if (parts.length == 1) {
                runOne(name, 0, 1, seed, property);
                return;
            }
            int index = Integer.parseInt(parts[1]) - 1;
            int total = Integer.parseInt(parts[2]);
            if (parts.length == 3 && index >= 0 && index < total) {
                runOne(name, index, total, seed, property);
                return;
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            // reported below
        }
        throw new IllegalArgumentException(SEED_PROPERTY + ": '" + value + "' (expected: <seed>:<try>:<tries> as printed"
                + " by a failure, or <seed>)");
    }

    private static void runOne(String name, int index, int total, long seed, Property property) {
        try {
            property.check(new Gen(seed, index, total));
        } catch (Throwable t) {
            String replay = seed + ":" + (index + 1) + ":" + total;
            AssertionError e = new AssertionError("property '" + name + "' failed on try " + (index + 1) + " of " + total
                    + " with seed " + seed + " (replay: -D" + SEED_PROPERTY + "=" + replay + "): " + t, t);
            System.err.println(e.getMessage());
            throw e;
        }
    }

    private static long factor() {
        String v = System.getProperty(TRIES_PROPERTY);
        if (v == null || v.isBlank()) {
            return 1;
        }
        long f = Long.parseLong(v.trim());
        if (f <= 0) {
            throw new IllegalArgumentException(TRIES_PROPERTY + ": " + v + " (expected: a positive integer)");
        }
        return f;
    }

    /** The random source of one try, with helpers that favour small values and edge cases. */
    public static final class Gen {
        private final SplittableRandom random;
        private final long seed;
        private final int index;
        private final int total;

        Gen(long seed, int index, int total) {
            this.random = new SplittableRandom(seed);
            this.seed = seed;
            this.index = index;
            this.total = total;
        }

        /** This try's seed. */
        public long seed() {
            return seed;
        }

        /** The raw random source. */
        public SplittableRandom random() {
            return random;
        }

        /** An int in {@code [from, to]}, inclusive. */
        public int between(int from, int to) {
            if (from > to) {
                throw new IllegalArgumentException("between(" + from + ", " + to + "): from > to");
            }
            return from == to ? from : random.nextInt(from, to == Integer.MAX_VALUE ? to : to + 1);
        }

        /**
         * A size in {@code [0, max]} that grows with the try number: early tries draw small sizes, later ones
         * the whole range; one try in eight draws an edge (0, 1 or max).
         */
        public int size(int max) {
            if (max <= 0) {
                return 0;
            }
            if (random.nextInt(8) == 0) {
                int[] edges = {0, Math.min(1, max), max};
                return edges[random.nextInt(edges.length)];
            }
            long bound = Math.max(1, (long) max * (index + 1) / total);
            return random.nextInt((int) Math.min(max, bound) + 1);
        }

        /** True with probability {@code p}. */
        public boolean chance(double p) {
            return random.nextDouble() < p;
        }

        /** Token ids in {@code [0, vocab)}, {@code length} of them. */
        public int[] tokens(int length, int vocab) {
            int[] t = new int[length];
            for (int i = 0; i < length; i++) {
                t[i] = random.nextInt(vocab);
            }
            return t;
        }

        /** {@code length} random bytes. */
        public byte[] bytes(int length) {
            byte[] b = new byte[length];
            random.nextBytes(b);
            return b;
        }

        /** One of {@code values}. */
        @SafeVarargs
        public final <T> T oneOf(T... values) {
            return values[random.nextInt(values.length)];
        }
    }
}
