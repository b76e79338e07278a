package org.lmcache4j.pool;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code bin/lmcache pool [--dir /dev/shm/lmcache4j] [--size 8g] [--lease 30s] [--status-every 60s]}: runs a node's
 * pool coordinator as a service, until the process is stopped, printing each pool's status line
 * ({@link PoolCoordinator#status()}) every {@code --status-every} seconds (0: never) and once more when it stops.
 * Engines with {@code pool:///dev/shm/lmcache4j} in their tiers use it (with {@code embed=false} they never start
 * their own). Exits 1 when a coordinator already serves the directory.
 */
public final class PoolMain {

    private PoolMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("/dev/shm/lmcache4j");
        long size = 1L << 30;
        Duration lease = PoolCoordinator.DEFAULT_LEASE;
        Duration statusEvery = Duration.ofSeconds(60);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: bin/lmcache pool [--dir DIR] [--size BYTES, e.g. 8g] [--lease SECONDS, e.g. 30s]"
                        + " [--status-every SECONDS, e.g. 60s; 0s: never]");
                return;
            }
            if (i + 1 >= args.length) {
                fail(a + ": missing value");
            }
            String v = args[++i];
            switch (a) {
                case "--dir" -> dir = Path.of(v);
                case "--size" -> size = bytes(v);
                case "--lease" -> lease = seconds(a, v, false);
                case "--status-every" -> statusEvery = seconds(a, v, true);
                default -> fail("option: '" + a + "' (expected: --dir, --size, --lease, --status-every)");
            }
        }
        Optional<PoolCoordinator> c = PoolCoordinator.tryStart(dir, size, lease);
        if (c.isEmpty()) {
            System.err.println("lmcache pool: a coordinator already serves " + dir);
            System.exit(1);
        }
        System.out.println("lmcache pool: serving " + PoolCoordinator.socketPath(c.get().root()) + ", pools of " + size + " bytes");
        System.out.flush();
        PoolCoordinator coordinator = c.get();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            printStatus(coordinator);
            coordinator.close();
        }));
        if (statusEvery.isZero()) {
            Thread.currentThread().join();
        }
        while (true) {
            Thread.sleep(statusEvery);
            printStatus(coordinator);
        }
    }

    private static void printStatus(PoolCoordinator coordinator) {
        List<String> lines = coordinator.status();
        if (lines.isEmpty()) {
            System.out.println("lmcache pool: no pool yet (no engine has attached)");
        }
        lines.forEach(line -> System.out.println("lmcache pool: " + line));
        System.out.flush();
    }

    private static Duration seconds(String option, String v, boolean zeroAllowed) {
        try {
            long n = Long.parseLong(v.endsWith("s") ? v.substring(0, v.length() - 1) : v);
            if (n > 0 || (zeroAllowed && n == 0)) {
                return Duration.ofSeconds(n);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        fail(option + ": '" + v + "' (expected: a whole number of seconds " + (zeroAllowed ? ">= 0" : "> 0") + ", e.g. 30s)");
        return null;
    }

    private static long bytes(String v) {
        String s = v.trim().toLowerCase(java.util.Locale.ROOT);
        long unit = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            case 't' -> 1L << 40;
            default -> 1;
        };
        try {
            long n = Long.parseLong(unit == 1 ? s : s.substring(0, s.length() - 1));
            if (n > 0) {
                return Math.multiplyExact(n, unit);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        fail("--size: '" + v + "' (expected: a positive number of bytes with an optional k, m, g or t suffix)");
        return 0;
    }

    private static void fail(String message) {
        System.err.println("lmcache pool: " + message);
        System.exit(2);
    }
}
